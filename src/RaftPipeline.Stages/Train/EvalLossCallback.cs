using System.Globalization;
using RaftPipeline.Core.Engine;
using RaftPipeline.Training.Data;
using RaftPipeline.Training.Loop;
using RaftPipeline.Training.Model;
using static TorchSharp.torch;

namespace RaftPipeline.Stages.Train;

/// <summary>
/// An eval_loss row after every training log row (HF's eval_strategy "steps" with eval_steps = logging_steps).
/// Forward-only over the held-out rows, so it costs about a third of one training step per eval batch; the
/// held-out split is small next to logging_steps × batch_size training rows in the recipes this tool runs.
/// Switches dropout off for the evaluation and back on after, without touching the RNG (dropout off draws nothing),
/// so training with and without eval_data follows the same trajectory.
/// </summary>
internal sealed class EvalLossCallback(ITrainableCausalLm model, CompletionOnlyCollator collator, IReadOnlyList<LabeledRow> rows,
    int batchSize, Device device, TrainMetricsFile metrics, IStageProgress progress) : ITrainerCallback
{
    public List<(int Step, double Epoch, double Loss)> History { get; } = [];

    public void OnLog(TrainingLogEntry entry) => Evaluate(entry.Step, entry.Epoch, training: true);

    public EvalLoss.Result Evaluate(int step, double epoch, bool training)
    {
        model.SetTraining(false);
        var result = EvalLoss.Compute(model, collator, rows, batchSize, device);
        model.SetTraining(training);
        History.Add((step, epoch, result.Loss));
        metrics.AppendEval(step, epoch, result);
        progress.Log(string.Create(CultureInfo.InvariantCulture, $"step {step}: eval_loss {result.Loss:F4} over {result.SupervisedTokens} answer tokens"));
        return result;
    }
}

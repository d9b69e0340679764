using System.Globalization;
using RaftPipeline.Core.Engine;
using RaftPipeline.Training.Loop;

namespace RaftPipeline.Stages.Train;

/// <summary>
/// Relays the trainer to the stage's progress: a report per optimizer step, an HF-style line per log, a line per
/// checkpoint. (Cancellation is the trainer's: it checkpoints at the next step boundary, then stops.)
/// </summary>
internal sealed class StageProgressCallback(IStageProgress progress) : ITrainerCallback
{
    public void OnStepEnd(TrainingProgress p)
    {
        progress.Report("train", p.Step, p.TotalSteps,
            string.Create(CultureInfo.InvariantCulture, $"loss {p.Loss:F4} lr {p.LearningRate:E2}"));
    }

    public void OnCheckpointSaved(string path) => progress.Log($"checkpoint {path}");

    public void OnLog(TrainingLogEntry e) =>
        progress.Log(string.Create(CultureInfo.InvariantCulture,
            $"step {e.Step}: loss {e.Loss:F4}, grad_norm {e.GradNorm:F4}, learning_rate {e.LearningRate:E3}, epoch {e.Epoch:F2}, {e.TokensPerSecond:F0} tokens/s"));
}

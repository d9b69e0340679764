using System.Text.Json.Nodes;
using RaftPipeline.Training.Loop;

namespace RaftPipeline.Stages.Train;

/// <summary>
/// metrics.jsonl: the trainer's log rows as <see cref="MetricsJsonlCallback"/> writes them (step, epoch, loss,
/// learning_rate, grad_norm, tokens_per_second, tokens) interleaved with eval rows (step, epoch, eval_loss,
/// eval_tokens) in the order they happen, as HF's log_history mixes train and eval entries. Every checkpoint carries
/// a copy of it as it stood then ("metrics so far"), which a resume puts back before training on.
/// </summary>
internal sealed class TrainMetricsFile(string path) : ITrainerCallback
{
    readonly MetricsJsonlCallback _train = new(path);

    public string Path => path;

    public void OnLog(TrainingLogEntry entry) => _train.OnLog(entry);

    public void OnCheckpointWriting(string directory)
    {
        if (File.Exists(path)) File.Copy(path, System.IO.Path.Combine(directory, TrainArtifact.MetricsFile), overwrite: true);
    }

    /// <summary>Replaces the file with the copy in <paramref name="checkpointDirectory"/> (the rows up to that checkpoint).</summary>
    public void RestoreFrom(string checkpointDirectory)
    {
        string saved = System.IO.Path.Combine(checkpointDirectory, TrainArtifact.MetricsFile);
        if (!File.Exists(saved))
            throw new InvalidDataException($"{checkpointDirectory}: checkpoint without {TrainArtifact.MetricsFile}; rerun with `raft run --no-resume` to start over");
        File.Copy(saved, path, overwrite: true);
    }

    public void AppendEval(int step, double epoch, EvalLoss.Result result)
    {
        var row = new JsonObject
        {
            ["step"] = step,
            ["epoch"] = epoch,
            ["eval_loss"] = double.IsFinite(result.Loss) ? result.Loss : null,
            ["eval_tokens"] = result.SupervisedTokens,
        };
        File.AppendAllText(path, row.ToJsonString() + "\n");
    }
}

namespace RaftPipeline.Training.Loop;

/// <summary>A plain-text live view: a progress bar per step and HF-style log lines, on any TextWriter.</summary>
public sealed class TextProgressCallback(TextWriter writer, int barWidth = 30) : ITrainerCallback
{
    public void OnStepEnd(TrainingProgress p)
    {
        int filled = (int)Math.Round(barWidth * (double)p.Step / Math.Max(1, p.TotalSteps));
        writer.Write($"\r[{new string('#', filled)}{new string('.', barWidth - filled)}] {p.Step}/{p.TotalSteps} loss {p.Loss:F4} lr {p.LearningRate:E2}");
        if (p.Step == p.TotalSteps) writer.WriteLine();
        writer.Flush();
    }

    public void OnLog(TrainingLogEntry e) =>
        writer.WriteLine($"\n{{'loss': {e.Loss:F4}, 'grad_norm': {e.GradNorm:F4}, 'learning_rate': {e.LearningRate:E3}, " +
                         $"'epoch': {e.Epoch:F2}, 'tokens_per_second': {e.TokensPerSecond:F0}}}");

    public void OnCheckpointSaved(string path) => writer.WriteLine($"\nsaved checkpoint {path}");
}

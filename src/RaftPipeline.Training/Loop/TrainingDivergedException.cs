namespace RaftPipeline.Training.Loop;

/// <summary>The loss or the gradient norm became NaN/inf; training stopped before the bad update was applied.</summary>
public sealed class TrainingDivergedException(int step, string what, double value, string? lastGoodCheckpoint)
    : Exception($"training diverged at optimizer step {step + 1}: {what} is {value}. The update was not applied; " +
                (lastGoodCheckpoint is null ? "no checkpoint was saved before it." : $"the last good checkpoint is {lastGoodCheckpoint}."))
{
    public int Step { get; } = step;
    public string? LastGoodCheckpoint { get; } = lastGoodCheckpoint;
}

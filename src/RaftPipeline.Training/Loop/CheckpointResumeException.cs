namespace RaftPipeline.Training.Loop;

/// <summary>
/// A checkpoint could not be resumed from (unreadable, incomplete, or made for another run shape); nothing was trained.
/// The message names the checkpoint and what is wrong with it.
/// </summary>
public sealed class CheckpointResumeException(string checkpoint, Exception inner)
    : Exception($"cannot resume from {checkpoint}: {inner.Message}", inner)
{
    public string Checkpoint { get; } = checkpoint;
}

namespace RaftPipeline.Training.Loop;

/// <summary>
/// Everything besides tensors that an exact resume needs (trainer_state.json): where the data stream stands
/// (epoch, optimizer steps done in it — the epoch's row order is a pure function of seed and epoch and is recorded
/// too), the loss accumulated since the last log, the CPU generator state, and the log history.
/// </summary>
public sealed record TrainerState
{
    public int GlobalStep { get; init; }
    public int TotalSteps { get; init; }
    public int Epoch { get; init; }
    public int StepsDoneInEpoch { get; init; }
    public int[] EpochRowOrder { get; init; } = [];
    public double LossSinceLastLog { get; init; }
    public int StepsSinceLastLog { get; init; }
    public long TokensSinceLastLog { get; init; }
    public long Seed { get; init; }
    public string CpuRngState { get; init; } = "";
    public List<TrainingLogEntry> LogHistory { get; init; } = [];
}

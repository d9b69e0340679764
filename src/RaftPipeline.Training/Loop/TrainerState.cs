namespace RaftPipeline.Training.Loop;

/// <summary>
/// Everything besides tensors that an exact resume needs (trainer_state.json): where the data stream stands
/// (epoch, optimizer steps done in it — the epoch's row order is a pure function of seed and epoch and is recorded
/// too), the loss accumulated since the last log, the CPU generator state, and the log history. Nothing in it depends on
/// the rank: a data-parallel run's checkpoint resumes under another world size with the same effective batch.
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
    /// <summary>Rows per optimizer step over all ranks (batch × world size × accumulation); 0 in older checkpoints.</summary>
    public int RowsPerStep { get; init; }
    /// <summary>The world size that wrote the checkpoint (informational: the state itself is the same on every rank).</summary>
    public int WorldSize { get; init; } = 1;
    public string CpuRngState { get; init; } = "";
    public List<TrainingLogEntry> LogHistory { get; init; } = [];
    /// <summary>Every optimizer step's loss so far (empty in older checkpoints), so a resumed run reports the whole run.</summary>
    public List<double> StepLosses { get; init; } = [];
}

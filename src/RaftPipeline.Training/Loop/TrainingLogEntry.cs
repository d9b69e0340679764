namespace RaftPipeline.Training.Loop;

/// <summary>
/// One log line as HF Trainer writes it: <see cref="Loss"/> is the mean of the per-step losses since the previous
/// log, <see cref="LearningRate"/> the scheduler's lr after this step (the next step's), <see cref="GradNorm"/> this
/// step's pre-clip global norm.
/// </summary>
public sealed record TrainingLogEntry(int Step, double Epoch, double Loss, double LearningRate, double GradNorm,
    double TokensPerSecond, long SupervisedTokens);

/// <summary>Per-step progress for live views (a progress bar).</summary>
public sealed record TrainingProgress(int Step, int TotalSteps, double Loss, double LearningRate);

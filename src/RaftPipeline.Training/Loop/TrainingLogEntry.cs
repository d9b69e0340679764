namespace RaftPipeline.Training.Loop;

/// <summary>
/// One log line as HF Trainer writes it: <see cref="Loss"/> is the mean of the per-step losses since the previous
/// log, <see cref="LearningRate"/> the scheduler's lr after this step (the next step's), <see cref="GradNorm"/> this
/// step's pre-clip global norm. <see cref="Tokens"/> counts every input token (context and answer, padding excluded)
/// of the steps since the previous log, the numerator of <see cref="TokensPerSecond"/>.
/// </summary>
public sealed record TrainingLogEntry(int Step, double Epoch, double Loss, double LearningRate, double GradNorm,
    double TokensPerSecond, long Tokens);

/// <summary>Per-step progress for live views (a progress bar).</summary>
public sealed record TrainingProgress(int Step, int TotalSteps, double Loss, double LearningRate);

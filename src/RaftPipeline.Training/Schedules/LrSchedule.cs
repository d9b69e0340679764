namespace RaftPipeline.Training.Schedules;

/// <summary>
/// A learning-rate schedule computed exactly as transformers' <c>get_scheduler</c> + torch's <c>LambdaLR</c> do:
/// the lr applied at optimizer step s (0-based) is <c>base_lr * lambda(s)</c>, with lambda evaluated in double
/// precision in the same operation order as transformers' <c>optimization.py</c>, so the values agree to the last bit.
/// HF Trainer logs <c>learning_rate</c> after step k as the lr of the next step, i.e. <see cref="LearningRateAt"/>(k).
/// </summary>
public sealed record LrSchedule(LrScheduleKind Kind, double BaseLearningRate, int TotalSteps, int WarmupSteps)
{
    /// <summary>
    /// Warmup steps as transformers 5 resolves <c>warmup_steps</c> (a value ≥ 1 is a step count, truncated to an
    /// integer; a value below 1 is a ratio of the total: <c>ceil(total × ratio)</c>). The ceil sees float artefacts:
    /// 100 × 0.07 = 7.000000000000001, so a 0.07 ratio of 100 steps warms up for 8 steps, as in transformers.
    /// </summary>
    public static int ResolveWarmupSteps(double warmup, int totalSteps)
    {
        if (warmup < 0 || double.IsNaN(warmup))
            throw new ArgumentOutOfRangeException(nameof(warmup), warmup, "warmup must be a ratio in [0, 1) or a step count ≥ 1");
        return warmup >= 1 ? (int)warmup : (int)Math.Ceiling(totalSteps * warmup);
    }

    /// <summary>The schedule from a warmup ratio (the notebook's <c>warmup_ratio</c>).</summary>
    public static LrSchedule FromWarmupRatio(LrScheduleKind kind, double baseLearningRate, int totalSteps, double warmupRatio)
    {
        if (warmupRatio is < 0 or >= 1)
            throw new ArgumentOutOfRangeException(nameof(warmupRatio), warmupRatio, "warmup_ratio must lie in [0, 1)");
        return new LrSchedule(kind, baseLearningRate, totalSteps, (int)Math.Ceiling(totalSteps * warmupRatio));
    }

    /// <summary>The learning rate applied by optimizer step <paramref name="step"/> (0-based).</summary>
    public double LearningRateAt(int step) => BaseLearningRate * Factor(step);

    /// <summary>transformers' lr_lambda for this schedule.</summary>
    public double Factor(int step)
    {
        switch (Kind)
        {
            case LrScheduleKind.Constant:
                return 1.0;
            case LrScheduleKind.ConstantWithWarmup:
                if (step < WarmupSteps) return (double)step / Math.Max(1.0, WarmupSteps);
                return 1.0;
            case LrScheduleKind.Linear:
                if (step < WarmupSteps) return (double)step / Math.Max(1, WarmupSteps);
                return Math.Max(0.0, (double)(TotalSteps - step) / Math.Max(1, TotalSteps - WarmupSteps));
            case LrScheduleKind.Cosine:
            {
                if (step < WarmupSteps) return (double)step / Math.Max(1, WarmupSteps);
                double progress = (double)(step - WarmupSteps) / Math.Max(1, TotalSteps - WarmupSteps);
                const double numCycles = 0.5;
                return Math.Max(0.0, 0.5 * (1.0 + Math.Cos(Math.PI * numCycles * 2.0 * progress)));
            }
            default:
                throw new ArgumentOutOfRangeException(nameof(Kind), Kind, "unknown schedule");
        }
    }

    /// <summary>Parses transformers' scheduler names ("cosine", "linear", "constant", "constant_with_warmup").</summary>
    public static LrScheduleKind ParseKind(string name) => name switch
    {
        "cosine" => LrScheduleKind.Cosine,
        "linear" => LrScheduleKind.Linear,
        "constant" => LrScheduleKind.Constant,
        "constant_with_warmup" => LrScheduleKind.ConstantWithWarmup,
        _ => throw new ArgumentException(
            $"unknown lr_scheduler_type '{name}': expected one of cosine, linear, constant, constant_with_warmup", nameof(name)),
    };
}

using RaftPipeline.Training.Optimizers;
using RaftPipeline.Training.Schedules;

namespace RaftPipeline.Training.Loop;

public enum OptimizerKind { AdamW, AdamW8bit }

/// <summary>
/// The trainer's settings, with HF TrainingArguments' meanings and defaults. <see cref="Warmup"/> follows
/// transformers 5's <c>warmup_steps</c>: below 1 a ratio of the total steps (ceil), otherwise a step count.
/// </summary>
public sealed record TrainerOptions
{
    public int BatchSize { get; init; } = 1;
    public int GradientAccumulationSteps { get; init; } = 1;
    public int Epochs { get; init; } = 1;
    /// <summary>Stops after this many optimizer steps and sizes the schedule with it (HF max_steps), if set.</summary>
    public int? MaxSteps { get; init; }
    public double LearningRate { get; init; } = 2e-4;
    public LrScheduleKind Schedule { get; init; } = LrScheduleKind.Cosine;
    public double Warmup { get; init; }
    public double MaxGradNorm { get; init; } = 1.0;
    public OptimizerKind Optimizer { get; init; } = OptimizerKind.AdamW;
    public AdamWOptions Adam { get; init; } = new();
    public int LoggingSteps { get; init; } = 10;
    /// <summary>Checkpoint every N optimizer steps into <see cref="OutputDir"/>, the last step excepted (0: never).</summary>
    public int SaveSteps { get; init; }
    /// <summary>Keep only the newest N checkpoints in <see cref="OutputDir"/> (HF save_total_limit); null: keep all.</summary>
    public int? SaveTotalLimit { get; init; }
    public string? OutputDir { get; init; }
    public long Seed { get; init; } = 42;
    /// <summary>Shuffle rows each epoch (seeded); off keeps the given order (parity runs).</summary>
    public bool Shuffle { get; init; } = true;
    public int LossChunkRows { get; init; } = Loss.CausalLmLoss.DefaultChunkRows;

    public void Validate()
    {
        if (BatchSize < 1) throw new ArgumentOutOfRangeException(nameof(BatchSize), BatchSize, "per_device_train_batch_size must be ≥ 1");
        if (GradientAccumulationSteps < 1) throw new ArgumentOutOfRangeException(nameof(GradientAccumulationSteps), GradientAccumulationSteps, "gradient_accumulation_steps must be ≥ 1");
        if (Epochs < 1 && MaxSteps is null) throw new ArgumentOutOfRangeException(nameof(Epochs), Epochs, "num_train_epochs must be ≥ 1 unless max_steps is set");
        if (MaxSteps is < 1) throw new ArgumentOutOfRangeException(nameof(MaxSteps), MaxSteps, "max_steps must be ≥ 1");
        if (LoggingSteps < 1) throw new ArgumentOutOfRangeException(nameof(LoggingSteps), LoggingSteps, "logging_steps must be ≥ 1");
        if (SaveTotalLimit is < 1) throw new ArgumentOutOfRangeException(nameof(SaveTotalLimit), SaveTotalLimit, "save_total_limit must be ≥ 1");
        if (SaveSteps > 0 && OutputDir is null) throw new ArgumentException("save_steps needs an output directory", nameof(OutputDir));
    }
}

using RaftPipeline.Core.Engine;
using RaftPipeline.Core.Spec;
using RaftPipeline.Core.Spec.Stages;
using RaftPipeline.Training.Loop;
using RaftPipeline.Training.Optimizers;
using RaftPipeline.Training.Schedules;
using SpecOptimizer = RaftPipeline.Core.Spec.Stages.OptimizerKind;
using TrainerOptimizer = RaftPipeline.Training.Loop.OptimizerKind;

namespace RaftPipeline.Stages.Train;

/// <summary>
/// <see cref="TrainParameters"/> resolved against the data and the device: the trainer's options (every field mapped
/// with HF TrainingArguments' meaning), the total and warmup steps, the seed and the checkpointing switch. Resumable
/// checkpoints go to <c>checkpointDirectory</c> (the stage key's checkpoint area) every save_steps; none without one.
/// </summary>
public sealed record TrainSettings(TrainerOptions Trainer, int TotalSteps, int WarmupSteps, int StepsPerEpoch,
    long Seed, bool GradientCheckpointing, int WorldSize = 1, bool CheckpointingByMemory = false)
{
    /// <summary>Rows per optimizer step over all processes: per-device batch × world size × accumulation.</summary>
    public int EffectiveBatchSize => Trainer.BatchSize * WorldSize * Trainer.GradientAccumulationSteps;

    public static TrainSettings Resolve(TrainParameters p, int rows, long pipelineSeed, DeviceKind device, string? checkpointDirectory = null)
    {
        if (rows < 1) throw new ArgumentOutOfRangeException(nameof(rows), rows, "no training rows");
        // The trainer's count: ceil(micro-batches / accumulation), the last, shorter step of an epoch included; a
        // micro-batch spans every data-parallel process (batch × world size rows).
        int world = p.WorldSize ?? 1;
        int microBatches = (rows + p.BatchSize * world - 1) / (p.BatchSize * world);
        int stepsPerEpoch = Math.Max(1, (microBatches + p.GradientAccumulationSteps - 1) / p.GradientAccumulationSteps);
        // HF: max_steps = ceil(num_train_epochs × steps per epoch) when max_steps is not given (fractional epochs too).
        int total = p.MaxSteps ?? checked((int)Math.Ceiling(p.Epochs * stepsPerEpoch));
        total = Math.Max(1, total);
        // warmup steps = ceil(ratio × total), passed as a count: the trainer reads values ≥ 1 as counts, so a ratio
        // of exactly 1.0 would otherwise mean one step.
        int warmup = (int)Math.Ceiling(p.WarmupRatio * total);
        long seed = p.Seed ?? pipelineSeed;
        bool checkpointing = p.GradientCheckpointing switch
        {
            Core.Spec.Stages.GradientCheckpointing.On => true,
            Core.Spec.Stages.GradientCheckpointing.Off => false,
            _ => device == DeviceKind.Cuda, // memory is the constraint on the GPU; on CPU recomputing only costs time
        };
        // auto on a GPU: how many layers to recompute is decided from the free memory once the model is loaded.
        bool byMemory = p.GradientCheckpointing == Core.Spec.Stages.GradientCheckpointing.Auto && device == DeviceKind.Cuda;
        var options = new TrainerOptions
        {
            BatchSize = p.BatchSize,
            GradientAccumulationSteps = p.GradientAccumulationSteps,
            Epochs = Math.Max(1, (int)Math.Ceiling(p.Epochs)),
            MaxSteps = total,
            LearningRate = p.LearningRate,
            Schedule = p.LrScheduler switch
            {
                LrScheduler.Cosine => LrScheduleKind.Cosine,
                LrScheduler.Linear => LrScheduleKind.Linear,
                LrScheduler.Constant => LrScheduleKind.Constant,
                var other => throw new ArgumentOutOfRangeException(nameof(p), other, "unknown lr_scheduler"),
            },
            Warmup = warmup,
            MaxGradNorm = p.MaxGradNorm,
            Optimizer = p.Optimizer == SpecOptimizer.Adamw8bit ? TrainerOptimizer.AdamW8bit : TrainerOptimizer.AdamW,
            Adam = new AdamWOptions(p.AdamBeta1, p.AdamBeta2, p.AdamEpsilon, p.WeightDecay),
            LoggingSteps = p.LoggingSteps,
            SaveSteps = checkpointDirectory is null ? 0 : p.SaveSteps,
            SaveTotalLimit = p.SaveTotalLimit,
            OutputDir = checkpointDirectory,
            Seed = seed,
            Shuffle = true,
        };
        return new TrainSettings(options, total, warmup, stepsPerEpoch, seed, checkpointing, world, byMemory);
    }
}

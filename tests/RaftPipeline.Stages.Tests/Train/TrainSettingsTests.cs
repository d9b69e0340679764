using RaftPipeline.Core.Spec;
using RaftPipeline.Core.Spec.Stages;
using RaftPipeline.Stages.Train;
using RaftPipeline.Training.Schedules;
using TrainerOptimizer = RaftPipeline.Training.Loop.OptimizerKind;

namespace RaftPipeline.Stages.Tests.Train;

public class TrainSettingsTests
{
    [Fact]
    public void The_notebook_defaults_map_onto_the_trainer()
    {
        // 210 rows, batch 2, accumulation 1, 1 epoch: 105 steps, ceil(0.03 × 105) = 4 warmup steps.
        var s = TrainSettings.Resolve(new TrainParameters(), rows: 210, pipelineSeed: 1234, DeviceKind.Cpu);
        Assert.Equal((105, 105, 4, 1234L, false), (s.StepsPerEpoch, s.TotalSteps, s.WarmupSteps, s.Seed, s.GradientCheckpointing));
        var o = s.Trainer;
        Assert.Equal((2, 1, 105, 1e-4, LrScheduleKind.Cosine, 4.0), (o.BatchSize, o.GradientAccumulationSteps, o.MaxSteps, o.LearningRate, o.Schedule, o.Warmup));
        Assert.Equal((TrainerOptimizer.AdamW8bit, 0.9, 0.999, 1e-8, 0.0, 1.0), (o.Optimizer, o.Adam.Beta1, o.Adam.Beta2, o.Adam.Epsilon, o.Adam.WeightDecay, o.MaxGradNorm));
        Assert.Equal((25, 0, 1234L, true), (o.LoggingSteps, o.SaveSteps, o.Seed, o.Shuffle));
    }

    [Fact]
    public void Checkpoints_go_to_the_engines_checkpoint_area_every_save_steps_and_nowhere_without_one()
    {
        var p = new TrainParameters { SaveSteps = 50, SaveTotalLimit = 3 };
        var o = TrainSettings.Resolve(p, rows: 210, pipelineSeed: 1, DeviceKind.Cpu, checkpointDirectory: "/cache/checkpoints/k").Trainer;
        Assert.Equal((50, (int?)3, "/cache/checkpoints/k"), (o.SaveSteps, o.SaveTotalLimit, o.OutputDir));
        var none = TrainSettings.Resolve(p, rows: 210, pipelineSeed: 1, DeviceKind.Cpu).Trainer;
        Assert.Equal((0, (string?)null), (none.SaveSteps, none.OutputDir)); // nothing could be resumed from: nothing is written
    }

    [Fact]
    public void Fractional_epochs_round_the_step_count_up_and_max_steps_wins()
    {
        var p = new TrainParameters { Epochs = 1.5, BatchSize = 4, GradientAccumulationSteps = 2 };
        // 21 rows: 6 micro-batches, 3 steps per epoch; 1.5 epochs → ceil(4.5) = 5 steps.
        Assert.Equal((3, 5), Pair(TrainSettings.Resolve(p, 21, 1, DeviceKind.Cpu)));
        Assert.Equal((3, 7), Pair(TrainSettings.Resolve(p with { MaxSteps = 7 }, 21, 1, DeviceKind.Cpu)));
        static (int, int) Pair(TrainSettings s) => (s.StepsPerEpoch, s.TotalSteps);
    }

    [Fact]
    public void Warmup_ratio_one_warms_up_over_every_step_and_checkpointing_auto_follows_the_device()
    {
        var s = TrainSettings.Resolve(new TrainParameters { WarmupRatio = 1.0, MaxSteps = 10 }, 4, 1, DeviceKind.Cuda);
        Assert.Equal((10, 10.0, true), (s.WarmupSteps, s.Trainer.Warmup, s.GradientCheckpointing));
        Assert.True(TrainSettings.Resolve(new TrainParameters { GradientCheckpointing = GradientCheckpointing.On }, 4, 1, DeviceKind.Cpu).GradientCheckpointing);
        Assert.False(TrainSettings.Resolve(new TrainParameters { GradientCheckpointing = GradientCheckpointing.Off }, 4, 1, DeviceKind.Cuda).GradientCheckpointing);
        Assert.Equal(99, TrainSettings.Resolve(new TrainParameters { Seed = 99 }, 4, 1, DeviceKind.Cpu).Seed);
        Assert.Equal(LrScheduleKind.Linear, TrainSettings.Resolve(new TrainParameters { LrScheduler = LrScheduler.Linear }, 4, 1, DeviceKind.Cpu).Trainer.Schedule);
    }
}

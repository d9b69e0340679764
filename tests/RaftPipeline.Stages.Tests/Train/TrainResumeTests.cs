using System.Text.Json.Nodes;
using RaftPipeline.Core.Engine;
using RaftPipeline.Core.Spec.Stages;
using RaftPipeline.Modeling.Adapters;
using RaftPipeline.Stages.Tests.TestSupport;
using RaftPipeline.Stages.Train;
using RaftPipeline.Training.Loop;
using OptimizerKind = RaftPipeline.Core.Spec.Stages.OptimizerKind;

namespace RaftPipeline.Stages.Tests.Train;

/// <summary>
/// The train stage stopped after a checkpoint (cancelled at a step boundary; a failed or killed attempt leaves the same
/// checkpoint area) and run again with a fresh output folder, as the engine reruns a key: it resumes from the newest
/// checkpoint and ends with the same per-step losses, metrics rows and adapter bytes as a run never stopped (CPU).
/// </summary>
public class TrainResumeTests(TrainInputs inputs) : IClassFixture<TrainInputs>
{
    static readonly TrainParameters Parameters = new()
    {
        MaxSteps = 6, BatchSize = 2, LearningRate = 2e-3, LoggingSteps = 2, Optimizer = OptimizerKind.Adamw8bit,
        MaxSeqLength = 256, WarmupRatio = 0.25, SaveSteps = 2, SaveTotalLimit = 2,
    };

    StageContext Context(TempFolder temp, string output, string checkpoints, IStageProgress progress)
    {
        var slots = new Dictionary<string, IReadOnlyList<string>>
        {
            ["model"] = [inputs.Model], ["adapter"] = [inputs.Adapter], ["data"] = [inputs.Data], ["eval_data"] = [inputs.Data],
        };
        var c = StageContexts.Create(temp, "train", Parameters, slots);
        return new StageContext
        {
            Stage = c.Stage, Inputs = c.Inputs, ReportDirectory = c.ReportDirectory, Seed = c.Seed, Device = c.Device,
            OutputDirectory = Directory.CreateDirectory(temp.Combine(output)).FullName,
            CheckpointDirectory = temp.Combine(checkpoints), Progress = progress,
        };
    }

    [Fact]
    public async Task A_run_stopped_after_a_checkpoint_resumes_to_the_same_losses_metrics_and_adapter_bytes()
    {
        using var temp = new TempFolder();
        var full = Context(temp, "full", "full-checkpoints", new Progress());
        var fullOutcome = await new TrainStageExecutor().RunAsync(full, default);
        Assert.Null(fullOutcome.Metrics["resumed_from_step"]);

        // Stopped as step 5 ends: the checkpoint at 4 (save_steps 2) and one at 5 (the stop); save_total_limit 2 has
        // deleted 2. Nothing of the stopped attempt's output folder is used again.
        using var cts = new CancellationTokenSource();
        var stopped = Context(temp, "stopped", "checkpoints", new Progress(stopAt: 5, cts));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => new TrainStageExecutor().RunAsync(stopped, cts.Token));
        Assert.Equal([4, 5], TrainerCheckpoint.List(stopped.CheckpointDirectory!).Select(c => c.Step));
        Assert.False(File.Exists(Path.Combine(stopped.OutputDirectory, AdapterStore.WeightsFileName)));

        var progress = new Progress();
        var rerun = Context(temp, "rerun", "checkpoints", progress);
        var outcome = await new TrainStageExecutor().RunAsync(rerun, default);
        Assert.Equal(5, outcome.Metrics["resumed_from_step"]!.GetValue<int>());
        Assert.Contains(progress.Lines, l => l.StartsWith($"resumed from step 5 of 6 ({Path.Combine(rerun.CheckpointDirectory!, "checkpoint-5")})", StringComparison.Ordinal));

        foreach (var file in new[] { AdapterStore.WeightsFileName, "adapter_config.json", TrainArtifact.DataFilesFile })
            Assert.Equal(File.ReadAllBytes(Path.Combine(full.OutputDirectory, file)), File.ReadAllBytes(Path.Combine(rerun.OutputDirectory, file)));
        // Every metrics row (train and eval, the ones before the checkpoint restored from it), but the wall-clock rate.
        Assert.Equal(Deterministic(TrainArtifact.ReadMetrics(full.OutputDirectory), "tokens_per_second"),
                     Deterministic(TrainArtifact.ReadMetrics(rerun.OutputDirectory), "tokens_per_second"));
        Assert.Equal(7, TrainArtifact.ReadMetrics(rerun.OutputDirectory).Count); // train rows at steps 2, 4, 6; eval rows at 0, 2, 4, 6
        // The summary's losses are over every step of the run, restored ones included.
        Assert.Equal(Deterministic([Summary(full)], "runtime_seconds"), Deterministic([Summary(rerun)], "runtime_seconds"));
        Assert.Equal(fullOutcome.Metrics["train_loss"]!.GetValue<double>(), outcome.Metrics["train_loss"]!.GetValue<double>());
    }

    [Fact]
    public async Task An_unreadable_checkpoint_fails_the_stage_naming_it_and_the_way_to_start_over()
    {
        using var temp = new TempFolder();
        var context = Context(temp, "out", "checkpoints", new Progress());
        string broken = Directory.CreateDirectory(Path.Combine(context.CheckpointDirectory!, "checkpoint-4")).FullName;
        foreach (var file in new[] { TrainerCheckpoint.TrainableFile, TrainerCheckpoint.OptimizerFile })
            File.WriteAllBytes(Path.Combine(broken, file), [1, 2, 3]);
        File.WriteAllText(Path.Combine(broken, TrainerCheckpoint.StateFile), "{\"GlobalStep\": 4, "); // cut short, as by a power cut
        File.WriteAllText(Path.Combine(broken, TrainArtifact.MetricsFile), "");

        var e = await Assert.ThrowsAsync<InvalidDataException>(() => new TrainStageExecutor().RunAsync(context, default));
        Assert.StartsWith($"cannot resume from {broken}: ", e.Message);
        Assert.EndsWith("; `raft run --no-resume` starts this stage over", e.Message);
        Assert.False(File.Exists(Path.Combine(context.OutputDirectory, AdapterStore.WeightsFileName)));
    }

    static JsonObject Summary(StageContext c) =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(c.OutputDirectory, TrainArtifact.SummaryFile)))!.AsObject();

    static List<string> Deterministic(IEnumerable<JsonObject> rows, string timed) =>
        rows.Select(r => { var copy = r.DeepClone().AsObject(); copy.Remove(timed); return copy.ToJsonString(); }).ToList();

    sealed class Progress(int stopAt = 0, CancellationTokenSource? cts = null) : IStageProgress
    {
        public List<string> Lines { get; } = [];
        public void Log(string message) => Lines.Add(message);
        public void Report(string step, long done, long total, string? status = null)
        {
            if (step == "train" && done == stopAt) cts!.Cancel();
        }
    }
}

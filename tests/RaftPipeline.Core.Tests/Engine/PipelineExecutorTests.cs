using RaftPipeline.Core.Engine;
using RaftPipeline.Core.Runs;
using RaftPipeline.Core.TestHost;
using static RaftPipeline.Core.Engine.StageStatus;

namespace RaftPipeline.Core.Tests.Engine;

public class PipelineExecutorTests
{
    [Fact]
    public async Task A_first_run_runs_every_stage_and_a_second_reuses_them_all()
    {
        using var f = new PipelineFixture();
        var echoes = PipelineFixture.Echoes();
        var first = await f.RunAsync(f.Spec(), echoes);
        Assert.Equal(RunOutcome.Succeeded, first.Outcome);
        Assert.All(first.Lock.Stages, s => Assert.Equal(Ran, s.Status));

        var second = await f.RunAsync(f.Spec(), echoes);
        Assert.All(second.Lock.Stages, s => Assert.Equal(Reused, s.Status));
        Assert.All(echoes.Cast<EchoExecutor>(), e => Assert.Equal(1, e.Runs));
        Assert.Equal(first.Lock.Stages.Select(s => s.Artifact), second.Lock.Stages.Select(s => s.Artifact));

        // The artifact really is a function of the inputs: train saw the data through load and format, and the model folder.
        var train = File.ReadAllText(Path.Combine(second.Lock.Stage("train")!.Artifact!, "out.txt"));
        Assert.Contains("sky,color?,blue", train);
        Assert.Contains("model: config.json={\"model_type\":\"qwen3\"},tokenizer.json={}", train);
        // A reused stage's report folder in the new run holds what the stage wrote when it ran.
        var reportOfReused = Path.Combine(second.Folder.Path, RunFolder.StagesFolderName, "train", "report.txt");
        Assert.True(File.Exists(reportOfReused), $"missing {reportOfReused}");
        Assert.Equal(File.ReadAllText(Path.Combine(first.Folder.Path, RunFolder.StagesFolderName, "train", "report.txt")), File.ReadAllText(reportOfReused));
        // A reused stage reports the metrics it was built with.
        Assert.Equal(first.Lock.Stage("train")!.Metrics["bytes"]!.GetValue<int>(), second.Lock.Stage("train")!.Metrics["bytes"]!.GetValue<int>());
    }

    [Fact]
    public async Task Changing_one_parameter_reruns_exactly_that_stage_and_its_descendants()
    {
        using var f = new PipelineFixture();
        await f.RunAsync(f.Spec());
        var second = await f.RunAsync(f.Spec(new Dictionary<string, EchoParameters> { ["format"] = new() { Text = "format", Rate = 2e-4 } }));
        var lockFile = RunLock.Read(second.Folder.LockPath);
        Assert.Equal(new Dictionary<string, StageStatus> { ["load"] = Reused, ["format"] = Ran, ["analyze"] = Ran, ["train"] = Ran },
            PipelineFixture.Statuses(lockFile));

        var third = await f.RunAsync(f.Spec(new Dictionary<string, EchoParameters> { ["analyze"] = new() { Text = "analyze", Steps = 9 } }));
        Assert.Equal(new Dictionary<string, StageStatus> { ["load"] = Reused, ["format"] = Reused, ["analyze"] = Ran, ["train"] = Reused },
            PipelineFixture.Statuses(RunLock.Read(third.Folder.LockPath)));
    }

    [Fact]
    public async Task Changing_an_external_file_reruns_its_readers_and_touching_it_does_not()
    {
        using var f = new PipelineFixture();
        await f.RunAsync(f.Spec());

        File.SetLastWriteTimeUtc(f.DataFile, DateTime.UtcNow.AddMinutes(5));
        File.SetLastWriteTimeUtc(Path.Combine(f.ModelFolder, "config.json"), DateTime.UtcNow.AddMinutes(5));
        var touched = await f.RunAsync(f.Spec());
        Assert.All(RunLock.Read(touched.Folder.LockPath).Stages, s => Assert.Equal(Reused, s.Status));

        File.WriteAllText(Path.Combine(f.ModelFolder, "tokenizer.json"), """{"v":2}""");
        var modelChanged = await f.RunAsync(f.Spec());
        Assert.Equal(new Dictionary<string, StageStatus> { ["load"] = Reused, ["format"] = Reused, ["analyze"] = Reused, ["train"] = Ran },
            PipelineFixture.Statuses(RunLock.Read(modelChanged.Folder.LockPath)));

        File.AppendAllText(f.DataFile, "sea,color?,blue\n");
        var dataChanged = await f.RunAsync(f.Spec());
        Assert.All(RunLock.Read(dataChanged.Folder.LockPath).Stages, s => Assert.Equal(Ran, s.Status));
    }

    [Fact]
    public async Task A_failing_stage_stops_its_dependents_with_its_message_and_independent_stages_still_run()
    {
        using var f = new PipelineFixture();
        var executors = PipelineFixture.Echoes().Select(e => e.Kind == "format"
            ? new FailingExecutor("format", "column 'cot' not found in data.csv (columns: context, question)")
            : e);
        var result = await f.RunAsync(f.Spec(), executors);

        Assert.Equal(RunOutcome.Failed, result.Outcome);
        var l = RunLock.Read(result.Folder.LockPath);
        Assert.Equal("failed", l.Status);
        Assert.Equal(new Dictionary<string, StageStatus> { ["load"] = Ran, ["format"] = Failed, ["analyze"] = Skipped, ["train"] = Skipped },
            PipelineFixture.Statuses(l));
        Assert.Equal("column 'cot' not found in data.csv (columns: context, question)", l.Stage("format")!.Error);
        Assert.Equal("not run: upstream stage 'format' failed: column 'cot' not found in data.csv (columns: context, question)",
            l.Stage("train")!.Error);
        Assert.Null(f.Store.TryGet(l.Stage("format")!.Key!));
        Assert.Empty(Directory.EnumerateFileSystemEntries(f.Store.TempDirectory)); // the partial output was discarded
        Assert.Contains("InvalidDataException", File.ReadAllText(result.Folder.LogPath)); // the whole exception is in run.log

        // analyze fails alone: train, which does not read it, still runs.
        using var g = new PipelineFixture();
        var analyzeFails = PipelineFixture.Echoes().Select(e => e.Kind == "analyze" ? new FailingExecutor("analyze", "boom") : e);
        var other = await g.RunAsync(g.Spec(), analyzeFails);
        Assert.Equal(new Dictionary<string, StageStatus> { ["load"] = Ran, ["format"] = Ran, ["analyze"] = Failed, ["train"] = Ran },
            PipelineFixture.Statuses(other.Lock));
    }

    [Fact]
    public async Task Cancelling_keeps_finished_artifacts_publishes_nothing_of_the_running_stage_and_a_rerun_resumes()
    {
        using var f = new PipelineFixture();
        using var cts = new CancellationTokenSource();
        string? staged = null;
        var gate = new GateExecutor("train") { OnStaged = dir => { staged = dir; cts.Cancel(); } };
        var result = await f.RunAsync(f.Spec(), PipelineFixture.Echoes().Where(e => e.Kind != "train").Append(gate), cts.Token);

        Assert.Equal(RunOutcome.Cancelled, result.Outcome);
        var l = RunLock.Read(result.Folder.LockPath);
        Assert.Equal("cancelled", l.Status);
        Assert.Equal(new Dictionary<string, StageStatus> { ["load"] = Ran, ["format"] = Ran, ["analyze"] = Ran, ["train"] = Cancelled },
            PipelineFixture.Statuses(l));
        Assert.NotNull(staged);
        Assert.False(Directory.Exists(staged));
        Assert.Null(f.Store.TryGet(l.Stage("train")!.Key!));
        foreach (var name in new[] { "load", "format", "analyze" })
            Assert.NotNull(f.Store.TryGet(l.Stage(name)!.Key!));

        var rerun = await f.RunAsync(f.Spec());
        Assert.Equal(new Dictionary<string, StageStatus> { ["load"] = Reused, ["format"] = Reused, ["analyze"] = Reused, ["train"] = Ran },
            PipelineFixture.Statuses(rerun.Lock));
    }

    [Fact]
    public async Task Stages_after_a_cancellation_are_skipped()
    {
        using var f = new PipelineFixture();
        using var cts = new CancellationTokenSource();
        var gate = new GateExecutor("format") { OnStaged = _ => cts.Cancel() };
        var result = await f.RunAsync(f.Spec(), PipelineFixture.Echoes().Where(e => e.Kind != "format").Append(gate), cts.Token);
        Assert.Equal(new Dictionary<string, StageStatus> { ["load"] = Ran, ["format"] = Cancelled, ["analyze"] = Skipped, ["train"] = Skipped },
            PipelineFixture.Statuses(result.Lock));
        Assert.Equal("not run: the run was cancelled", result.Lock.Stage("train")!.Error);
    }
}

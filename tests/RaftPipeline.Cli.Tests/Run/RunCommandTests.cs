using RaftPipeline.Cli.Commands.Run;
using RaftPipeline.Core.Engine;
using RaftPipeline.Core.Runs;
using RaftPipeline.Core.Store;
using RaftPipeline.Core.TestHost;

namespace RaftPipeline.Cli.Tests.Run;

public class RunCommandTests
{
    [Fact]
    public async Task Run_prints_plain_progress_leaves_a_run_folder_and_a_second_run_reuses_everything()
    {
        using var p = new CliPipeline();
        var first = await p.RunAsync();
        Assert.True(first.Exit == 0, first.Error);
        Assert.Contains("3 stages: 0 in the cache, 3 to run", first.Output);
        Assert.Contains("[1/3] rows: running", first.Output);
        Assert.Matches(@"\[2/3\] chat: ran [0-9a-f]{12} in \d+\.\d s", first.Output);
        Assert.Contains("succeeded: 3 ran, 0 reused in", first.Output);

        var run = Assert.Single(p.Runs());
        Assert.Matches(@"^\d{8}-\d{6}$", Path.GetFileName(run));
        Assert.Contains($"run folder: {run}", first.Output);
        foreach (var file in new[] { "spec.resolved.yaml", "raft.lock.json", "run.log", "stages/chat/report.txt" })
            Assert.True(File.Exists(Path.Combine(run, file)), file);
        Assert.Contains("system_prompt: Answer rudely.", File.ReadAllText(Path.Combine(run, "spec.resolved.yaml")));

        await Task.Delay(1100); // a new second: a new timestamped run folder
        var second = await p.RunAsync();
        Assert.Equal(0, second.Exit);
        Assert.Contains("3 stages: 3 in the cache, 0 to run", second.Output);
        Assert.Contains("succeeded: 0 ran, 3 reused in", second.Output);
        var locks = p.Runs().Select(r => RunLock.Read(Path.Combine(r, RunLock.FileName))).ToList();
        Assert.Equal(2, locks.Count);
        Assert.All(locks[1].Stages, s => Assert.Equal(StageStatus.Reused, s.Status));
    }

    [Fact]
    public async Task A_set_override_reruns_its_stage_and_descendants_and_run_stage_runs_only_what_it_needs()
    {
        using var p = new CliPipeline();
        Assert.Equal(0, (await p.RunAsync(new RunOptions(p.SpecPath, [], [], RunDirectory: Path.Combine(p.Folder, "r1")))).Exit);
        var changed = await p.RunAsync(new RunOptions(p.SpecPath, ["chat"], ["chat.system_prompt=Be polite."], RunDirectory: Path.Combine(p.Folder, "r2")));
        Assert.Equal(0, changed.Exit);

        var l = RunLock.Read(Path.Combine(p.Folder, "r2", RunLock.FileName));
        Assert.Equal(["chat"], l.Targets);
        Assert.Equal(["rows", "chat"], l.Stages.Select(s => s.Name));
        Assert.Equal(StageStatus.Reused, l.Stage("rows")!.Status);
        Assert.Equal(StageStatus.Ran, l.Stage("chat")!.Status);
        Assert.Equal("Be polite.", l.Stage("chat")!.Parameters["system_prompt"]!.GetValue<string>());
        Assert.Contains("# with --set chat.system_prompt=Be polite.", File.ReadAllText(Path.Combine(p.Folder, "r2", "spec.resolved.yaml")));
    }

    [Fact]
    public async Task A_failing_stage_exits_1_naming_the_stage_and_its_cause()
    {
        using var p = new CliPipeline();
        var executors = CliPipeline.Echoes().Select(e => e.Kind == "format" ? new FailingExecutor("format", "the chat template has no generation prompt") : e).ToList();
        var result = await p.RunAsync(new RunOptions(p.SpecPath, [], []), executors);
        Assert.Equal(RaftCli.ExitCodes.Failed, result.Exit);
        Assert.Contains("stage 'chat' (format) failed: the chat template has no generation prompt", result.Error);
        Assert.Contains("[3/3] stats: skipped: not run: upstream stage 'chat' failed: the chat template has no generation prompt", result.Output);
        Assert.Contains("failed: 1 ran, 0 reused, 1 failed, 1 skipped", result.Output);
    }

    [Fact]
    public async Task A_bad_spec_an_unknown_stage_or_a_missing_executor_exit_2_and_run_nothing()
    {
        using var p = new CliPipeline();
        var bad = await p.RunAsync(new RunOptions(p.SpecPath, [], ["chat.sytem_prompt=x"]));
        Assert.Equal(RaftCli.ExitCodes.BadInput, bad.Exit);
        Assert.Contains("sytem_prompt", bad.Error);
        Assert.Contains("nothing was run", bad.Error);

        var unknown = await p.RunAsync("stat");
        Assert.Equal(RaftCli.ExitCodes.BadInput, unknown.Exit);
        Assert.Contains("unknown stage 'stat'", unknown.Error);

        var missing = await p.RunAsync(new RunOptions(p.SpecPath, [], []), CliPipeline.Echoes().Where(e => e.Kind != "analyze").ToList());
        Assert.Equal(RaftCli.ExitCodes.BadInput, missing.Exit);
        Assert.Contains("pipeline.yaml:12:3: stage 'stats': no executor is registered for kind 'analyze'", missing.Error);
        Assert.Empty(p.Runs());
    }

    [Fact]
    public async Task A_folder_given_as_the_spec_is_refused_with_what_was_meant()
    {
        using var p = new CliPipeline();
        var result = await p.RunAsync(new RunOptions(p.Folder, [], []));
        Assert.Equal(RaftCli.ExitCodes.BadInput, result.Exit);
        Assert.Contains($"{p.Folder}: error: is a folder; expected a pipeline spec file (YAML): did you mean {p.SpecPath}?", result.Error);
    }

    [Fact]
    public async Task Device_auto_says_what_it_picked_and_cuda_without_cuda_is_refused()
    {
        using var p = new CliPipeline();
        var auto = await p.RunAsync(new RunOptions(p.SpecPath, [], [], RunDirectory: Path.Combine(p.Folder, "auto"), Device: "auto"));
        Assert.Equal(0, auto.Exit);
        Assert.Contains("device auto: no CUDA device found, using cpu", auto.Output);
        Assert.Equal("cpu", RunLock.Read(Path.Combine(p.Folder, "auto", RunLock.FileName)).Device);

        var cuda = await p.RunAsync(new RunOptions(p.SpecPath, [], [], Device: "cuda"));
        Assert.Equal(RaftCli.ExitCodes.BadInput, cuda.Exit);
        Assert.Contains("device 'cuda' was asked for, but no CUDA device is available", cuda.Error);
        // What to install, not only what is missing.
        Assert.Contains("pip install \"torch==2.10.*\"", cuda.Error);
        Assert.Contains("RAFT_LIBTORCH", cuda.Error);

        var withCuda = await p.RunAsync(new RunOptions(p.SpecPath, [], [], RunDirectory: Path.Combine(p.Folder, "gpu"), Device: "auto"), cudaAvailable: true);
        Assert.Equal(0, withCuda.Exit);
        Assert.Equal("cuda", RunLock.Read(Path.Combine(p.Folder, "gpu", RunLock.FileName)).Device);
    }

    [Fact]
    public async Task Cancelling_exits_130_and_keeps_finished_artifacts()
    {
        using var p = new CliPipeline();
        using var cts = new CancellationTokenSource();
        var executors = CliPipeline.Echoes().Select(e => e.Kind == "analyze" ? new GateExecutor("analyze") { OnStaged = _ => cts.Cancel() } : e).ToList();
        var result = await p.RunAsync(new RunOptions(p.SpecPath, [], [], RunDirectory: Path.Combine(p.Folder, "c")), executors, cancellationToken: cts.Token);
        Assert.Equal(RaftCli.ExitCodes.Cancelled, result.Exit);
        Assert.Contains("cancelled: 2 ran, 0 reused, 1 cancelled", result.Output);
        var l = RunLock.Read(Path.Combine(p.Folder, "c", RunLock.FileName));
        Assert.NotNull(new ArtifactStore(p.Cache).TryGet(l.Stage("chat")!.Key!));
        Assert.Null(new ArtifactStore(p.Cache).TryGet(l.Stage("stats")!.Key!));
    }

    [Fact]
    public async Task A_run_that_cannot_get_the_cache_says_who_holds_it_and_exits_1()
    {
        using var p = new CliPipeline();
        using var held = await CacheLock.AcquireAsync(p.Cache, "another raft run", TimeSpan.Zero, null, default);
        var result = await p.RunAsync(new RunOptions(p.SpecPath, [], [], LockTimeout: TimeSpan.FromMilliseconds(300)));
        Assert.Equal(RaftCli.ExitCodes.Failed, result.Exit);
        Assert.Contains($"waiting for the cache lock on {p.Cache}, held by pid {Environment.ProcessId}", result.Output);
        Assert.Contains($"not run: the cache {p.Cache} is locked by pid {Environment.ProcessId}", result.Error);
        Assert.Contains("(another raft run, since", result.Error);
    }

    [Fact]
    public void The_run_verb_parses_stages_overrides_and_options()
    {
        var parse = RaftCli.BuildRoot().Parse(["run", "p.yaml", "train", "merge", "--set", "a=1", "--set", "b=2", "--run-dir", "out", "--verify", "--device", "cuda", "--lock-timeout", "5"]);
        Assert.Empty(parse.Errors);
        Assert.Equal(["train", "merge"], parse.GetValue<string[]>("stage")!);
        Assert.Equal(["a=1", "b=2"], parse.GetValue<string[]>("--set")!);
        Assert.Equal("cuda", parse.GetValue<string>("--device"));
        Assert.True(parse.GetValue<bool>("--verify"));

        var wrong = RaftCli.BuildRoot().Parse(["run", "p.yaml", "--device", "gpu"]);
        Assert.NotEmpty(wrong.Errors);
    }

    [Fact]
    public void No_resume_is_parsed_and_passed_on_to_data_parallel_workers()
    {
        var parse = RaftCli.BuildRoot().Parse(["run", "p.yaml", "--no-resume"]);
        Assert.Empty(parse.Errors);
        Assert.True(parse.GetValue<bool>("--no-resume"));
        Assert.False(RaftCli.BuildRoot().Parse(["run", "p.yaml"]).GetValue<bool>("--no-resume"));
        Assert.Equal(["run", "p.yaml", "--verify", "--no-resume"], new RunOptions("p.yaml", [], [], Verify: true, NoResume: true).WorkerArguments());
        Assert.Equal(["run", "p.yaml"], new RunOptions("p.yaml", [], []).WorkerArguments());
    }
}

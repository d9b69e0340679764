using RaftPipeline.Core.Engine;
using RaftPipeline.Core.Runs;
using RaftPipeline.Core.Tests.Engine;
using static RaftPipeline.Core.Engine.StageStatus;

namespace RaftPipeline.Core.Tests.Runs;

/// <summary>Runs in separate processes over one cache: reuse, a kill before publishing, two runs at once.</summary>
public class CrossProcessTests
{
    static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    static string[] Args(PipelineFixture f, string runDir, params string[] extra) =>
        ["run", "--spec-dir", f.Folder.Path, "--cache", f.Cache, "--data", f.DataFile, "--model", f.ModelFolder, "--run-dir", runDir, .. extra];

    [Fact]
    public async Task A_second_process_reuses_every_artifact_the_first_built()
    {
        using var f = new PipelineFixture();
        using (var first = new TestHostProcess(Args(f, f.Folder["p1"])))
            Assert.True(await first.WaitAsync(Patience) == 0, first.Output);
        using (var second = new TestHostProcess(Args(f, f.Folder["p2"])))
            Assert.True(await second.WaitAsync(Patience) == 0, second.Output);

        var a = RunLock.Read(Path.Combine(f.Folder["p1"], RunLock.FileName));
        var b = RunLock.Read(Path.Combine(f.Folder["p2"], RunLock.FileName));
        Assert.All(a.Stages, s => Assert.Equal(Ran, s.Status));
        Assert.All(b.Stages, s => Assert.Equal(Reused, s.Status));
        Assert.Equal(a.Stages.Select(s => s.Key), b.Stages.Select(s => s.Key));
        // ...and the same keys as this process computes: nothing process-specific enters a key.
        var here = await f.RunAsync(f.Spec());
        Assert.Equal(a.Stages.Select(s => s.Key), here.Lock.Stages.Select(s => s.Key));
        Assert.All(here.Lock.Stages, s => Assert.Equal(Reused, s.Status));
    }

    [Fact]
    public async Task A_process_killed_between_writing_and_publishing_leaves_no_trusted_entry_and_no_lock()
    {
        using var f = new PipelineFixture();
        var marker = f.Folder["staged.txt"];
        string staging;
        using (var victim = new TestHostProcess(Args(f, f.Folder["killed"], "--gate-stage", "train", "--marker", marker)))
        {
            await victim.WaitForFileAsync(marker, Patience);
            staging = File.ReadAllText(marker);
            victim.Kill();
        }
        // The killed run wrote its files, then died before the rename: they sit in tmp/, untrusted.
        Assert.True(File.Exists(Path.Combine(staging, "out.txt")));
        Assert.StartsWith(f.Store.TempDirectory, staging);
        // Its lock file still says "running", but nobody holds the run: every reader sees it interrupted.
        Assert.Equal("running", RunLock.ReadRecorded(Path.Combine(f.Folder["killed"], RunLock.FileName)).Status);
        var killedLock = RunLock.Read(Path.Combine(f.Folder["killed"], RunLock.FileName));
        Assert.Equal("interrupted", killedLock.Status);
        Assert.Equal(Interrupted, killedLock.Stage("train")!.Status);
        Assert.Contains("stopped before it finished", killedLock.Stage("train")!.Error);
        Assert.Equal(Ran, killedLock.Stage("analyze")!.Status);
        var trainKey = killedLock.Stage("train")!.Key!;
        Assert.Null(f.Store.TryGet(trainKey));

        // The OS released the dead process's lock: the next run starts at once, reuses what was published and reruns train.
        var next = await f.RunAsync(f.Spec());
        Assert.Equal(new Dictionary<string, StageStatus> { ["load"] = Reused, ["format"] = Reused, ["analyze"] = Reused, ["train"] = Ran },
            PipelineFixture.Statuses(next.Lock));
        Assert.StartsWith("train\n", File.ReadAllText(Path.Combine(f.Store.TryGet(trainKey)!.DataDirectory, "out.txt")));

        // gc removes what the killed process left behind.
        var removed = new Core.Store.CacheCollector(f.Store).Collect([], TimeSpan.FromDays(7), DateTime.UtcNow, dryRun: false).Removed;
        Assert.Contains(removed, r => r.Path == Path.GetDirectoryName(staging));
        Assert.Empty(Directory.EnumerateFileSystemEntries(f.Store.TempDirectory));
    }

    [Fact]
    public async Task A_run_killed_by_sigkill_is_shown_running_while_alive_and_interrupted_after_and_the_next_run_records_it()
    {
        using var f = new PipelineFixture();
        var marker = f.Folder["staged.txt"];
        string runFolder;
        using (var victim = new TestHostProcess(Args(f, f.Folder["victim"], "--gate-stage", "train", "--marker", marker)))
        {
            await victim.WaitForFileAsync(marker, Patience);
            runFolder = f.Folder["victim"];
            Assert.Equal("running", RunLock.Read(Path.Combine(runFolder, RunLock.FileName)).Status); // alive: still running
            Assert.True(RunLiveness.IsHeld(runFolder));
            victim.Kill();
        }
        Assert.False(RunLiveness.IsHeld(runFolder));
        // Under the pipeline's runs folder, where the next run of the pipeline looks.
        var history = RunFolder.DefaultPipelineRunsDirectory(f.Spec());
        Directory.CreateDirectory(history);
        var moved = Path.Combine(history, "20260101-000000");
        Directory.Move(runFolder, moved);

        var messages = new List<string>();
        var next = await f.RunAsync(f.Spec(), observer: new MessageObserver(messages.Add));
        Assert.Equal(RunOutcome.Succeeded, next.Outcome);
        Assert.Contains($"an earlier run was interrupted in stage 'train' (its process died): {moved}", messages);
        var onDisk = RunLock.ReadRecorded(Path.Combine(moved, RunLock.FileName));
        Assert.Equal("interrupted", onDisk.Status);
        Assert.Equal(Interrupted, onDisk.Stage("train")!.Status);
        Assert.Equal(Ran, onDisk.Stage("analyze")!.Status);
        Assert.False(File.Exists(Path.Combine(next.Folder.Path, RunLiveness.FileName))); // released when the run ended
    }

    sealed class MessageObserver(Action<string> say) : IRunObserver
    {
        public void Message(string text) => say(text);
        public void RunStarted(IReadOnlyList<PlannedStage> stages) { }
        public void StageStarted(string stage) { }
        public void StageLog(string stage, string message) { }
        public void StageProgress(string stage, string step, long done, long total, string? status) { }
        public void StageFinished(StageRecord record) { }
    }

    [Fact]
    public async Task Two_runs_at_once_on_one_cache_take_turns_the_second_waits_then_reuses()
    {
        using var f = new PipelineFixture();
        using var a = new TestHostProcess(Args(f, f.Folder["a"], "--delay-ms", "400"));
        using var b = new TestHostProcess(Args(f, f.Folder["b"], "--delay-ms", "400"));
        Assert.True(await a.WaitAsync(Patience) == 0, a.Output);
        Assert.True(await b.WaitAsync(Patience) == 0, b.Output);

        var locks = new[] { f.Folder["a"], f.Folder["b"] }.Select(d => RunLock.Read(Path.Combine(d, RunLock.FileName))).ToList();
        var builder = locks.Single(l => l.Stages.All(s => s.Status == Ran));
        var follower = locks.Single(l => l.Stages.All(s => s.Status == Reused));
        Assert.Equal(builder.Stages.Select(s => s.Key), follower.Stages.Select(s => s.Key));

        var waiter = new[] { a, b }.Single(p => p.Output.Contains("waiting for the cache lock"));
        var holder = waiter == a ? b : a;
        Assert.Contains($"held by pid {holder.Id} on", waiter.Output);
        Assert.All(f.Store.EntryDirectories(), d => Assert.Empty(Core.Store.CacheVerifier.Verify(d)));
        Assert.Equal(4, f.Store.Entries().Count());
    }

    [Fact]
    public async Task A_run_that_cannot_get_the_lock_in_time_stops_and_names_the_holder()
    {
        using var f = new PipelineFixture();
        using var held = await Core.Store.CacheLock.AcquireAsync(f.Cache, "a test holding the cache", TimeSpan.Zero, null, default);
        using var late = new TestHostProcess(Args(f, f.Folder["late"], "--lock-timeout-ms", "500"));
        Assert.Equal(3, await late.WaitAsync(Patience));
        Assert.Contains($"the cache {f.Cache} is locked by pid {Environment.ProcessId}", late.Output);
        Assert.Contains("a test holding the cache", late.Output);
        Assert.False(Directory.Exists(f.Folder["late"])); // nothing was started
    }
}

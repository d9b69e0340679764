using RaftPipeline.Cli.Tests.Run;
using RaftPipeline.Core.Runs;
using RaftPipeline.Core.Store;

namespace RaftPipeline.Cli.Tests.Cache;

/// <summary>The cache verbs through the real command-line wiring.</summary>
public class CacheVerbTests
{
    static (int Exit, string Output, string Error) Raft(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var exit = RaftCli.BuildRoot().Parse(args).Invoke(new System.CommandLine.InvocationConfiguration { Output = output, Error = error });
        return (exit, output.ToString(), error.ToString());
    }

    [Fact]
    public async Task Ls_lists_every_entry_with_its_stage_and_size()
    {
        using var p = new CliPipeline();
        Directory.CreateDirectory(p.Cache);
        Assert.Contains("empty", Raft("cache", "ls", "--cache", p.Cache).Output);
        await p.RunAsync();
        var (exit, output, _) = Raft("cache", "ls", "--spec", p.SpecPath);
        Assert.Equal(0, exit);
        var lines = output.Replace("\r\n", "\n").Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("key           pipeline  stage  kind     files  size", lines[0]);
        Assert.Matches(@"^[0-9a-f]{12}  demo      rows   load     1      \d+ B", lines[1]);
        Assert.Contains(lines, l => l.Contains("  demo      stats  analyze  1  "));
        Assert.StartsWith("3 entries, ", lines[^1]);
    }

    [Fact]
    public async Task Ls_takes_the_spec_as_run_does()
    {
        using var p = new CliPipeline();
        await p.RunAsync();
        var (exit, output, _) = Raft("cache", "ls", p.SpecPath);
        Assert.Equal(0, exit);
        Assert.Equal(Raft("cache", "ls", "--spec", p.SpecPath).Output, output);
        Assert.StartsWith("3 entries, ", output.ReplaceLineEndings("\n").Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1]);

        var folder = Raft("cache", "ls", p.Folder);
        Assert.Equal(RaftCli.ExitCodes.BadInput, folder.Exit);
        Assert.Contains($"{p.Folder}: error: is a folder; expected a pipeline spec file (YAML): did you mean {p.SpecPath}?", folder.Error);
    }

    [Fact]
    public async Task Verify_reports_a_tampered_entry_with_exit_1_and_remove_lets_the_next_run_rebuild_it()
    {
        using var p = new CliPipeline();
        var run = await p.RunAsync();
        Assert.Equal(0, Raft("cache", "verify", "--cache", p.Cache).Exit);

        var l = RunLock.Read(Path.Combine(Assert.Single(p.Runs()), RunLock.FileName));
        var file = Path.Combine(l.Stage("chat")!.Artifact!, "out.txt");
        File.SetAttributes(file, FileAttributes.Normal);
        File.AppendAllText(file, "tampered");

        var verify = Raft("cache", "verify", "--cache", p.Cache);
        Assert.Equal(RaftCli.ExitCodes.Failed, verify.Exit);
        Assert.Contains($"tampered {l.Stage("chat")!.Key}:", verify.Error);
        Assert.Contains("out.txt: size ", verify.Error);
        Assert.Contains("3 entries checked, 1 tampered", verify.Output);

        var removed = Raft("cache", "verify", "--cache", p.Cache, "--remove");
        Assert.Contains("removed; the next run rebuilds it", removed.Error);
        Assert.Equal(0, Raft("cache", "verify", "--cache", p.Cache).Exit);
        Assert.Null(new ArtifactStore(p.Cache).TryGet(l.Stage("chat")!.Key!));
    }

    [Theory]
    [InlineData("ls")]
    [InlineData("verify")]
    public void Ls_and_verify_on_a_cache_that_does_not_exist_say_so_and_exit_2(string verb)
    {
        using var p = new CliPipeline();
        var missing = Path.Combine(p.Folder, "no-such-cache");
        var (exit, output, error) = Raft("cache", verb, "--cache", missing);
        Assert.Equal(RaftCli.ExitCodes.BadInput, exit);
        Assert.Equal($"cache folder '{missing}' does not exist", error.Trim());
        Assert.Equal("", output);
        Assert.False(Directory.Exists(missing));

        var file = Path.Combine(p.Folder, "data", "rag.csv");
        var onFile = Raft("cache", verb, "--cache", file);
        Assert.Equal(RaftCli.ExitCodes.BadInput, onFile.Exit);
        Assert.Equal($"cache '{file}' is a file, not a cache folder", onFile.Error.Trim());
    }

    [Fact]
    public async Task Verify_also_reports_and_removes_the_entries_built_from_a_tampered_one()
    {
        using var p = new CliPipeline();
        await p.RunAsync();
        var l = RunLock.Read(Path.Combine(Assert.Single(p.Runs()), RunLock.FileName));
        var file = Path.Combine(l.Stage("rows")!.Artifact!, "out.txt");
        File.SetAttributes(file, FileAttributes.Normal);
        var bytes = File.ReadAllBytes(file);
        bytes[0] ^= 1; // same size: only a rehash sees it
        File.WriteAllBytes(file, bytes);

        var verify = Raft("cache", "verify", "--cache", p.Cache);
        Assert.Equal(RaftCli.ExitCodes.Failed, verify.Exit);
        Assert.Contains($"tampered {l.Stage("rows")!.Key}:", verify.Error);
        Assert.Contains($"untrusted {l.Stage("chat")!.Key}:\n  built from stage 'rows''s artifact {l.Stage("rows")!.Key![..12]}, which was tampered with",
            verify.Error.Replace("\r\n", "\n"));
        Assert.Contains($"untrusted {l.Stage("stats")!.Key}:\n  built from stage 'chat''s artifact", verify.Error.Replace("\r\n", "\n"));
        Assert.Contains("3 entries checked, 1 tampered, 2 built from tampered or changed artifacts", verify.Output);

        Assert.Equal(RaftCli.ExitCodes.Failed, Raft("cache", "verify", "--cache", p.Cache, "--remove").Exit);
        var after = Raft("cache", "verify", "--cache", p.Cache);
        Assert.Equal(0, after.Exit);
        Assert.Contains("0 entries checked, 0 tampered", after.Output);
    }

    [Fact]
    public async Task Gc_keeps_the_latest_run_s_artifacts_and_removes_those_a_spec_edit_superseded_with_correct_counts()
    {
        using var p = new CliPipeline();
        await p.RunAsync();
        var first = RunLock.Read(Path.Combine(Assert.Single(p.Runs()), RunLock.FileName));
        await Task.Delay(1100);
        // The spec itself changes (not a --set): the new run supersedes the old one.
        File.WriteAllText(p.SpecPath, CliPipeline.Spec + "\n    params: { bins: 20 }\n");
        Assert.Equal(0, (await p.RunAsync()).Exit);
        var latest = RunLock.Read(Path.Combine(p.Runs()[^1], RunLock.FileName));
        var oldStats = first.Stage("stats")!.Key!;
        Assert.NotEqual(oldStats, latest.Stage("stats")!.Key);

        var dry = Raft("cache", "gc", "--spec", p.SpecPath, "--keep-days", "0", "--dry-run");
        Assert.Equal(0, dry.Exit);
        Assert.Contains($"would remove objects/{oldStats[..2]}/{oldStats}", dry.Output.Replace('\\', '/'));
        Assert.Contains($"keep {latest.Stage("stats")!.Key![..12]} demo/stats", dry.Output);
        Assert.Contains("used by the latest run of demo", dry.Output);
        // The dry run counts what it would keep, not every entry still there.
        Assert.Matches(@"would remove 1 entry \([^)]+\), freeing [^;]+; would keep 3 entries \([^)]+\)\n", dry.Output.Replace("\r\n", "\n"));
        Assert.NotNull(new ArtifactStore(p.Cache).TryGet(oldStats));

        var gc = Raft("cache", "gc", "--spec", p.SpecPath, "--keep-days", "0");
        Assert.Equal(0, gc.Exit);
        Assert.Matches(@"removed 1 entry \([^)]+\), freed [^;]+; kept 3 entries \([^)]+\)\n", gc.Output.Replace("\r\n", "\n"));
        var store = new ArtifactStore(p.Cache);
        Assert.Null(store.TryGet(oldStats));
        Assert.All(latest.Stages, s => Assert.NotNull(store.TryGet(s.Key!)));
        Assert.Equal(3, store.Entries().Count());
    }

    [Fact]
    public async Task A_later_smoke_run_with_set_overrides_does_not_make_gc_remove_the_full_run_s_artifacts()
    {
        using var p = new CliPipeline();
        await p.RunAsync();
        var full = RunLock.Read(Path.Combine(Assert.Single(p.Runs()), RunLock.FileName));
        await Task.Delay(1100);
        Assert.Equal(0, (await p.RunAsync(new global::RaftPipeline.Cli.Commands.Run.RunOptions(p.SpecPath, [], ["stats.bins=2"]))).Exit);
        var smoke = RunLock.Read(Path.Combine(p.Runs()[^1], RunLock.FileName));
        Assert.Equal(["stats.bins=2"], smoke.Overrides);
        Assert.Empty(full.Overrides!);

        var gc = Raft("cache", "gc", "--spec", p.SpecPath, "--keep-days", "0");
        Assert.Equal(0, gc.Exit);
        Assert.Contains("removed nothing; kept 4 entries", gc.Output);
        Assert.Contains($"keep {full.Stage("stats")!.Key![..12]} demo/stats", gc.Output);
        Assert.Contains($"used by the latest run of demo ({Path.GetFileName(p.Runs()[0])})", gc.Output);
        Assert.Contains($"used by the latest run of demo with --set stats.bins=2 ({Path.GetFileName(p.Runs()[^1])})", gc.Output);
        var store = new ArtifactStore(p.Cache);
        Assert.All(full.Stages.Concat(smoke.Stages), s => Assert.NotNull(store.TryGet(s.Key!)));
    }

    [Fact]
    public async Task A_pinned_artifact_survives_gc_until_it_is_unpinned()
    {
        using var p = new CliPipeline();
        // Echo doubles with the shipped stages' versions build the keys 'pin SPEC:STAGE' computes.
        await p.RunAsync(new global::RaftPipeline.Cli.Commands.Run.RunOptions(p.SpecPath, [], []), CliPipeline.EchoesWithShippedVersions());
        var first = RunLock.Read(Path.Combine(Assert.Single(p.Runs()), RunLock.FileName));
        var chatKey = first.Stage("chat")!.Key!;

        var pin = Raft("cache", "pin", $"{p.SpecPath}:chat");
        Assert.Equal(0, pin.Exit);
        Assert.StartsWith($"pinned {chatKey[..12]} (demo/chat, ", pin.Output);
        Assert.True(new ArtifactPins(new ArtifactStore(p.Cache)).IsPinned(chatKey));
        Assert.Contains("pinned", Raft("cache", "ls", "--cache", p.Cache).Output.Split('\n').Single(l => l.StartsWith(chatKey[..12])));

        // No run folders and no grace period: only the pin keeps anything.
        var gc = Raft("cache", "gc", "--cache", p.Cache, "--keep-days", "0");
        Assert.Equal(0, gc.Exit);
        Assert.Contains($"keep {chatKey[..12]} demo/chat", gc.Output);
        Assert.Contains("removed 2 entries", gc.Output);
        Assert.Contains("kept 1 entry", gc.Output);
        var store = new ArtifactStore(p.Cache);
        Assert.Equal([chatKey], store.Entries().Select(e => e.Key));
        Assert.StartsWith("format\n", File.ReadAllText(Path.Combine(store.TryGet(chatKey)!.DataDirectory, "out.txt")));

        var unknown = Raft("cache", "unpin", "--cache", p.Cache, "abcdef0123");
        Assert.Equal(RaftCli.ExitCodes.BadInput, unknown.Exit);
        Assert.Contains("abcdef0123: no pinned key starts with it", unknown.Error);
        var unpin = Raft("cache", "unpin", "--cache", p.Cache, chatKey[..10]);
        Assert.Equal(0, unpin.Exit);
        Assert.StartsWith($"unpinned {chatKey[..12]}", unpin.Output);
        Raft("cache", "gc", "--cache", p.Cache, "--keep-days", "0");
        Assert.Empty(store.Entries());
    }

    [Fact]
    public async Task Pin_says_what_is_wrong_with_a_target_it_cannot_use()
    {
        using var p = new CliPipeline();
        var notBuilt = Raft("cache", "pin", "--spec", p.SpecPath, "stats");
        Assert.Equal(RaftCli.ExitCodes.BadInput, notBuilt.Exit);
        Assert.Contains("stats: ", notBuilt.Error);
        Assert.Contains("is not in the cache", notBuilt.Error);
        var unknownStage = Raft("cache", "pin", $"{p.SpecPath}:stat");
        Assert.Equal(RaftCli.ExitCodes.BadInput, unknownStage.Exit);
        Assert.Contains("stat", unknownStage.Error);
        var nothing = Raft("cache", "pin", "--cache", p.Cache, "merged");
        Assert.Equal(RaftCli.ExitCodes.BadInput, nothing.Exit);
        Assert.Contains("merged: expected SPEC:STAGE (e.g. pipeline.yaml:merged), a stage with --spec FILE, or a key", nothing.Error);
    }

    [Fact]
    public async Task Gc_refuses_while_a_run_holds_the_cache()
    {
        using var p = new CliPipeline();
        using var held = await CacheLock.AcquireAsync(p.Cache, "raft run pipeline.yaml", TimeSpan.Zero, null, default);
        var gc = Raft("cache", "gc", "--cache", p.Cache);
        Assert.Equal(RaftCli.ExitCodes.Failed, gc.Exit);
        Assert.Contains($"the cache is in use: pid {Environment.ProcessId}", gc.Error);
    }
}

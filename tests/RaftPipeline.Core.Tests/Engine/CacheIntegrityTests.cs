using System.Text.Json.Nodes;
using RaftPipeline.Core.Engine;
using RaftPipeline.Core.Runs;
using RaftPipeline.Core.Store;
using RaftPipeline.Core.TestHost;
using static RaftPipeline.Core.Engine.StageStatus;

namespace RaftPipeline.Core.Tests.Engine;

/// <summary>
/// The cache never reuses a broken artifact: a missing folder or file is seen on every reuse (cheap), a byte changed
/// in place is seen with --verify, and an artifact built from a tampered or since-changed input is dropped with it.
/// </summary>
public class CacheIntegrityTests
{
    static string OutFile(RunResult run, string stage) => Path.Combine(run.Lock.Stage(stage)!.Artifact!, "out.txt");

    static void FlipLastByte(string file)
    {
        File.SetAttributes(file, FileAttributes.Normal);
        var bytes = File.ReadAllBytes(file);
        bytes[^1] ^= 0x20;
        File.WriteAllBytes(file, bytes);
    }

    [Fact]
    public async Task A_deleted_data_folder_is_not_reused_but_rebuilt_and_the_record_says_why()
    {
        using var f = new PipelineFixture();
        var first = await f.RunAsync(f.Spec());
        var format = first.Lock.Stage("format")!;
        ArtifactStore.DeleteTree(format.Artifact!);

        var second = await f.RunAsync(f.Spec());
        Assert.Equal(RunOutcome.Succeeded, second.Outcome);
        Assert.Equal(new Dictionary<string, StageStatus> { ["load"] = Reused, ["format"] = Ran, ["analyze"] = Reused, ["train"] = Reused },
            PipelineFixture.Statuses(second.Lock));
        var record = RunLock.Read(second.Folder.LockPath).Stage("format")!;
        Assert.Equal("its files do not match its manifest (data folder missing)", record.Dropped);
        Assert.Contains("dropped: its files do not match its manifest (data folder missing)", File.ReadAllText(second.Folder.LogPath));
        // Rebuilt deterministically: the same content, so the stages built from it keep their artifacts.
        Assert.Equal(File.ReadAllText(OutFile(first, "train")), File.ReadAllText(OutFile(second, "train")));
        Assert.True(File.Exists(OutFile(second, "format")));
    }

    [Fact]
    public async Task A_deleted_or_truncated_file_is_seen_on_reuse_without_verify()
    {
        using var f = new PipelineFixture();
        var first = await f.RunAsync(f.Spec());
        File.Delete(OutFile(first, "load"));
        var analyzeOut = OutFile(first, "analyze");
        File.SetAttributes(analyzeOut, FileAttributes.Normal);
        File.WriteAllText(analyzeOut, "short");

        var second = await f.RunAsync(f.Spec());
        var statuses = PipelineFixture.Statuses(second.Lock);
        Assert.Equal(Ran, statuses["load"]);
        Assert.Equal(Ran, statuses["analyze"]);
        Assert.Equal("its files do not match its manifest (out.txt: missing)", second.Lock.Stage("load")!.Dropped);
        Assert.Matches(@"^its files do not match its manifest \(out.txt: size 5 bytes, manifest says \d+\)$", second.Lock.Stage("analyze")!.Dropped);
        Assert.NotEqual("short", File.ReadAllText(OutFile(second, "analyze")));
    }

    [Fact]
    public async Task Verify_drops_every_artifact_built_from_a_tampered_one_even_when_the_upstream_rebuilds_to_its_old_content()
    {
        using var f = new PipelineFixture();
        var clean = await f.RunAsync(f.Spec());
        var cleanTrain = File.ReadAllText(OutFile(clean, "train"));
        // Start over with only load and format cached, then flip a byte of format's artifact (same size).
        new ArtifactStore(f.Cache).Remove(clean.Lock.Stage("train")!.Key!);
        new ArtifactStore(f.Cache).Remove(clean.Lock.Stage("analyze")!.Key!);
        FlipLastByte(OutFile(clean, "format"));

        // Without --verify the cheap check cannot see it: analyze and train are built from the tampered artifact.
        var poisoned = await f.RunAsync(f.Spec());
        Assert.Equal(Reused, poisoned.Lock.Stage("format")!.Status);
        Assert.NotEqual(cleanTrain, File.ReadAllText(OutFile(poisoned, "train")));

        var verified = await f.RunAsync(f.Spec(), verify: true);
        Assert.Equal(new Dictionary<string, StageStatus> { ["load"] = Reused, ["format"] = Ran, ["analyze"] = Ran, ["train"] = Ran },
            PipelineFixture.Statuses(verified.Lock));
        Assert.StartsWith("its files do not match its manifest (out.txt: sha256 ", verified.Lock.Stage("format")!.Dropped);
        Assert.StartsWith("built from stage 'format''s artifact ", verified.Lock.Stage("train")!.Dropped);
        Assert.EndsWith("which was tampered with", verified.Lock.Stage("analyze")!.Dropped);
        Assert.Equal(cleanTrain, File.ReadAllText(OutFile(verified, "train")));

        var again = await f.RunAsync(f.Spec(), verify: true);
        Assert.All(again.Lock.Stages, s => Assert.Equal(Reused, s.Status));
    }

    [Fact]
    public async Task Cache_verify_lists_the_tampered_entry_and_every_entry_built_from_it()
    {
        using var f = new PipelineFixture();
        var run = await f.RunAsync(f.Spec());
        var keys = run.Lock.Stages.ToDictionary(s => s.Name, s => s.Key!);
        Assert.Empty(CacheVerifier.VerifyAll(f.Store));

        FlipLastByte(OutFile(run, "format"));
        var findings = CacheVerifier.VerifyAll(f.Store).ToDictionary(x => x.Key);
        Assert.Equal(new[] { keys["format"], keys["analyze"], keys["train"] }.Order(), findings.Keys.Order());
        Assert.False(findings[keys["format"]].Downstream);
        Assert.StartsWith("out.txt: sha256 ", Assert.Single(findings[keys["format"]].Problems));
        Assert.True(findings[keys["train"]].Downstream);
        Assert.Equal($"built from stage 'format''s artifact {keys["format"][..12]}, which was tampered with", Assert.Single(findings[keys["train"]].Problems));
        Assert.Equal("train", findings[keys["train"]].Stage);
    }

    [Fact]
    public async Task A_missing_file_upstream_does_not_condemn_what_was_built_before_it_went_missing()
    {
        using var f = new PipelineFixture();
        var run = await f.RunAsync(f.Spec());
        File.Delete(OutFile(run, "format"));
        var findings = CacheVerifier.VerifyAll(f.Store);
        var only = Assert.Single(findings);
        Assert.Equal(run.Lock.Stage("format")!.Key, only.Key);
        Assert.Equal(["out.txt: missing"], only.Problems);
    }

    [Fact]
    public async Task An_artifact_built_from_another_content_of_its_input_than_the_cached_one_is_dropped()
    {
        using var f = new PipelineFixture();
        // format is not deterministic here (as a GPU stage may not be): each run writes other bytes under the same key.
        var runs = 0;
        IReadOnlyList<IStageExecutor> Executors() => PipelineFixture.Echoes()
            .Select(e => e.Kind == "format" ? new WritingExecutor("format", () => $"format run {++runs}") : e).ToList();
        var first = await f.RunAsync(f.Spec(), Executors());
        var trainBefore = File.ReadAllText(OutFile(first, "train"));
        var manifest = ArtifactManifest.Read(Path.Combine(Path.GetDirectoryName(first.Lock.Stage("train")!.Artifact!)!, ArtifactManifest.FileName));
        var recorded = manifest.UpstreamInputs().Single(i => i.Stage == "format");
        Assert.Equal(f.Store.TryGet(first.Lock.Stage("format")!.Key!)!.Manifest.ContentDigest, recorded.Digest);

        f.Store.Remove(first.Lock.Stage("format")!.Key!);
        var second = await f.RunAsync(f.Spec(), Executors());
        Assert.Equal(new Dictionary<string, StageStatus> { ["load"] = Reused, ["format"] = Ran, ["analyze"] = Ran, ["train"] = Ran },
            PipelineFixture.Statuses(second.Lock));
        Assert.Matches(@"^built from another content of stage 'format''s artifact [0-9a-f]{12} \(content [0-9a-f]{12}… then, [0-9a-f]{12}… now\)$",
            second.Lock.Stage("train")!.Dropped);
        Assert.Contains("format run 2", File.ReadAllText(OutFile(second, "train")));
        Assert.NotEqual(trainBefore, File.ReadAllText(OutFile(second, "train")));
    }

    [Fact]
    public async Task Plan_says_a_broken_artifact_will_run_again()
    {
        using var f = new PipelineFixture();
        var run = await f.RunAsync(f.Spec());
        ArtifactStore.DeleteTree(run.Lock.Stage("load")!.Artifact!);
        var stages = new StageKeyResolver(new StageExecutorRegistry(PipelineFixture.Echoes()),
            new ExternalInputHasher(InputHashMemo.InMemory()), f.Store).Resolve(f.Spec().Seed, f.Spec().Stages);
        var plan = PipelinePlanner.Plan(stages, f.Store, RunHistory.Empty);
        var load = plan.Single(p => p.Stage == "load");
        Assert.False(load.Reuse);
        Assert.Equal(["cached artifact dropped: its files do not match its manifest (data folder missing)"], load.Reasons);
        Assert.True(plan.Single(p => p.Stage == "train").Reuse);
    }

    /// <summary>Writes out.txt with what <paramref name="content"/> returns, whatever the inputs.</summary>
    sealed class WritingExecutor(string kind, Func<string> content) : IStageExecutor
    {
        public string Kind => kind;
        public int Version => 1;

        public async Task<StageOutcome> RunAsync(StageContext context, CancellationToken cancellationToken)
        {
            await File.WriteAllTextAsync(Path.Combine(context.OutputDirectory, "out.txt"), content(), cancellationToken);
            return new StageOutcome(new JsonObject());
        }
    }
}

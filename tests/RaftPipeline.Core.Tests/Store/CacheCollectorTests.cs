using RaftPipeline.Core.Engine;
using RaftPipeline.Core.Store;
using RaftPipeline.Core.TestHost;
using RaftPipeline.Core.Tests.Engine;

namespace RaftPipeline.Core.Tests.Store;

public class CacheCollectorTests
{
    [Fact]
    public async Task Gc_keeps_what_the_latest_run_references_or_what_was_used_recently_and_removes_the_rest()
    {
        using var f = new PipelineFixture();
        var old = await f.RunAsync(f.Spec());
        var latest = await f.RunAsync(f.Spec(new Dictionary<string, EchoParameters> { ["analyze"] = new() { Text = "analyze", Steps = 7 } }));
        var oldAnalyze = old.Lock.Stage("analyze")!.Key!;
        var newAnalyze = latest.Lock.Stage("analyze")!.Key!;
        Directory.CreateDirectory(Path.Combine(f.Store.TempDirectory, "0123456789ab-999-dead"));
        var runs = Path.Combine(f.Folder.Path, "runs");
        var collector = new CacheCollector(f.Store);

        // Used moments ago: the age rule keeps the old analyze entry; only the leftover staging folder goes.
        var first = collector.Collect([runs], TimeSpan.FromDays(7), DateTime.UtcNow, dryRun: false);
        var removed = first.Removed;
        Assert.Equal("staging folder left by an interrupted run", Assert.Single(removed).Reason);
        Assert.Equal(CacheCollector.RemovalKind.Staging, removed[0].Kind);
        Assert.Equal(5, first.Kept.Count);
        Assert.StartsWith("used ", first.Kept.Single(k => k.Entry.Key == oldAnalyze).Reason);
        Assert.NotNull(f.Store.TryGet(oldAnalyze));

        // A dry run with no grace period lists the unreferenced entry and removes nothing.
        var listed = collector.Collect([runs], TimeSpan.Zero, DateTime.UtcNow.AddSeconds(1), dryRun: true);
        Assert.Equal(f.Store.EntryDirectory(oldAnalyze), Assert.Single(listed.Removed).Path);
        Assert.Equal(4, listed.Kept.Count);
        Assert.NotNull(f.Store.TryGet(oldAnalyze));

        collector.Collect([runs], TimeSpan.Zero, DateTime.UtcNow.AddSeconds(1), dryRun: false);
        Assert.Null(f.Store.TryGet(oldAnalyze));
        foreach (var stage in latest.Lock.Stages) Assert.NotNull(f.Store.TryGet(stage.Key!));
        Assert.NotNull(f.Store.TryGet(newAnalyze));
    }

    [Fact]
    public async Task Without_run_folders_gc_removes_entries_unused_for_longer_than_the_grace_period()
    {
        using var f = new PipelineFixture();
        await f.RunAsync(f.Spec());
        var collector = new CacheCollector(f.Store);
        Assert.Empty(collector.Collect([], TimeSpan.FromDays(30), DateTime.UtcNow, dryRun: false).Removed);
        var later = collector.Collect([], TimeSpan.FromDays(30), DateTime.UtcNow.AddDays(31), dryRun: false);
        Assert.Equal(4, later.Removed.Count);
        Assert.All(later.Removed, r => Assert.Equal(CacheCollector.RemovalKind.Entry, r.Kind));
        Assert.Empty(later.Kept);
        Assert.Empty(f.Store.Entries());
    }

    [Fact]
    public async Task A_pinned_entry_and_one_exported_to_a_folder_that_still_exists_survive_gc_a_removed_export_folder_protects_nothing()
    {
        using var f = new PipelineFixture();
        var run = await f.RunAsync(f.Spec());
        var train = f.Store.TryGet(run.Lock.Stage("train")!.Key!)!;
        var analyze = f.Store.TryGet(run.Lock.Stage("analyze")!.Key!)!;
        var format = f.Store.TryGet(run.Lock.Stage("format")!.Key!)!;
        new ArtifactPins(f.Store).Add(train, DateTime.UtcNow);
        var exporter = new ArtifactExporter(f.Store);
        exporter.Export(analyze, f.Folder["out/analyze"], force: false, DateTime.UtcNow);
        exporter.Export(format, f.Folder["out/format"], force: false, DateTime.UtcNow);
        Directory.Delete(f.Folder["out/format"], recursive: true); // the user threw that copy away

        var result = new CacheCollector(f.Store).Collect([], TimeSpan.Zero, DateTime.UtcNow.AddDays(100), dryRun: false);
        Assert.Equal("pinned", result.Kept.Single(k => k.Entry.Key == train.Key).Reason);
        Assert.Equal($"exported to {f.Folder["out/analyze"]}", result.Kept.Single(k => k.Entry.Key == analyze.Key).Reason);
        Assert.Equal(2, result.Kept.Count);
        Assert.Equal(2, result.Removed.Count); // load and format
        Assert.Equal(new[] { analyze.Key, train.Key }.Order(StringComparer.Ordinal), f.Store.Entries().Select(e => e.Key).Order(StringComparer.Ordinal));
        Assert.StartsWith("train\n", File.ReadAllText(Path.Combine(f.Store.TryGet(train.Key)!.DataDirectory, "out.txt")));
        // Each kept entry's size is its whole folder (manifest, data, report copies).
        foreach (var k in result.Kept)
            Assert.Equal(Directory.EnumerateFiles(k.Entry.EntryDirectory, "*", SearchOption.AllDirectories).Sum(x => new FileInfo(x).Length), k.Bytes);
    }

    [Fact]
    public async Task When_the_latest_run_failed_the_latest_succeeded_run_keeps_its_artifacts_too()
    {
        using var f = new PipelineFixture();
        var good = await f.RunAsync(f.Spec());
        await Task.Delay(20);
        var changed = f.Spec(new Dictionary<string, EchoParameters> { ["train"] = new() { Text = "train", Steps = 9 } });
        var executors = TestPipelines.Kinds.Select(k => k == "train" ? (IStageExecutor)new FailingExecutor(k, "out of memory") : new EchoExecutor(k)).ToList();
        var bad = await f.RunAsync(changed, executors);
        Assert.Equal("failed", bad.Lock.Status);

        var keep = CacheCollector.ReferencedKeys([Path.Combine(f.Folder.Path, "runs")]);
        var goodTrain = good.Lock.Stage("train")!.Key!;
        Assert.Equal($"the latest succeeded run of diamond ({Path.GetFileName(good.Folder.Path)})", keep[goodTrain]);
        Assert.StartsWith("the latest run of diamond", keep[bad.Lock.Stage("load")!.Key!]);
        new CacheCollector(f.Store).Collect([Path.Combine(f.Folder.Path, "runs")], TimeSpan.Zero, DateTime.UtcNow.AddDays(1), dryRun: false);
        Assert.NotNull(f.Store.TryGet(goodTrain));
    }
}

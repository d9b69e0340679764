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
        var removed = collector.Collect([runs], TimeSpan.FromDays(7), DateTime.UtcNow, dryRun: false);
        Assert.Equal("staging folder left by an interrupted run", Assert.Single(removed).Reason);
        Assert.NotNull(f.Store.TryGet(oldAnalyze));

        // A dry run with no grace period lists the unreferenced entry and removes nothing.
        var listed = collector.Collect([runs], TimeSpan.Zero, DateTime.UtcNow.AddSeconds(1), dryRun: true);
        Assert.Equal(f.Store.EntryDirectory(oldAnalyze), Assert.Single(listed).Path);
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
        Assert.Empty(collector.Collect([], TimeSpan.FromDays(30), DateTime.UtcNow, dryRun: false));
        Assert.Equal(4, collector.Collect([], TimeSpan.FromDays(30), DateTime.UtcNow.AddDays(31), dryRun: false).Count);
        Assert.Empty(f.Store.Entries());
    }
}

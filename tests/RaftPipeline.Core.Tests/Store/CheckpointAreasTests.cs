using System.Text.Json.Nodes;
using RaftPipeline.Core.Engine;
using RaftPipeline.Core.Runs;
using RaftPipeline.Core.Store;
using RaftPipeline.Core.TestHost;
using RaftPipeline.Core.Tests.Engine;
using static RaftPipeline.Core.Engine.StageStatus;

namespace RaftPipeline.Core.Tests.Store;

/// <summary>
/// The engine's side of resume: a stage key's checkpoint area survives a failed attempt, the rerun sees what the
/// failed one left, publishing removes it, --no-resume clears it first, and gc collects areas nobody will resume.
/// </summary>
public class CheckpointAreasTests
{
    /// <summary>
    /// A train double: lists what it finds in its checkpoint area (the artifact's content), adds a checkpoint of its
    /// own (written aside, then renamed, as the trainer does), and fails while <see cref="FailuresLeft"/> is above 0.
    /// </summary>
    sealed class CheckpointingExecutor : IStageExecutor
    {
        public string Kind => "train";
        public int Version => 1;
        public int FailuresLeft { get; set; }
        public List<string?> SeenAreas { get; } = [];

        public Task<StageOutcome> RunAsync(StageContext context, CancellationToken cancellationToken)
        {
            var area = context.CheckpointDirectory!;
            SeenAreas.Add(area);
            var found = Directory.Exists(area) ? Directory.GetDirectories(area).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList() : [];
            var next = Path.Combine(area, $"checkpoint-{found.Count + 1}");
            Directory.CreateDirectory(next + ".tmp");
            File.WriteAllText(Path.Combine(next + ".tmp", "state.json"), "{}");
            Directory.Move(next + ".tmp", next);
            File.WriteAllText(Path.Combine(context.OutputDirectory, "out.txt"), "found: " + string.Join(",", found));
            if (FailuresLeft-- > 0) throw new IOException("device lost");
            return Task.FromResult(new StageOutcome(new JsonObject { ["resumed_from"] = found.Count }));
        }
    }

    static IEnumerable<IStageExecutor> With(CheckpointingExecutor train) =>
        PipelineFixture.Echoes().Where(e => e.Kind != "train").Append(train);

    [Fact]
    public async Task A_failed_attempt_leaves_its_checkpoints_for_the_rerun_and_publishing_removes_them()
    {
        using var f = new PipelineFixture();
        var train = new CheckpointingExecutor { FailuresLeft = 2 };
        var first = await f.RunAsync(f.Spec(), With(train));
        Assert.Equal(Failed, first.Lock.Stage("train")!.Status);
        string key = first.Lock.Stage("train")!.Key!;
        var areas = new CheckpointAreas(f.Store);
        Assert.Equal(Path.Combine(f.Store.Root, "checkpoints", key), train.SeenAreas.Single());
        Assert.True(areas.HasContent(key));

        await f.RunAsync(f.Spec(), With(train)); // fails again, one checkpoint more
        var third = await f.RunAsync(f.Spec(), With(train));
        var record = third.Lock.Stage("train")!;
        Assert.Equal(Ran, record.Status);
        Assert.Equal("found: checkpoint-1,checkpoint-2", File.ReadAllText(Path.Combine(record.Artifact!, "out.txt")));
        Assert.False(Directory.Exists(areas.PathFor(key)), "the published key's checkpoints are removed");
        Assert.Contains("removed its checkpoints (the artifact is published)", File.ReadAllText(third.Folder.LogPath));
        Assert.Empty(Directory.EnumerateFileSystemEntries(f.Store.TempDirectory)); // removed through tmp/, nothing left there
    }

    [Fact]
    public async Task No_resume_clears_the_checkpoints_before_the_stage_runs()
    {
        using var f = new PipelineFixture();
        var train = new CheckpointingExecutor { FailuresLeft = 1 };
        await f.RunAsync(f.Spec(), With(train));
        var fresh = await f.RunAsync(f.Spec(), With(train), resume: false);
        var record = fresh.Lock.Stage("train")!;
        Assert.Equal(Ran, record.Status);
        Assert.Equal("found: ", File.ReadAllText(Path.Combine(record.Artifact!, "out.txt")));
        Assert.Contains("--no-resume: removed the checkpoints an earlier attempt left; starting over", File.ReadAllText(fresh.Folder.LogPath));
    }

    [Fact]
    public async Task Gc_removes_areas_of_published_keys_stale_areas_strays_and_half_written_checkpoints_only()
    {
        using var f = new PipelineFixture();
        var run = await f.RunAsync(f.Spec());
        var areas = new CheckpointAreas(f.Store);
        string published = run.Lock.Stage("train")!.Key!;
        string pending = new string('a', 64), stale = new string('b', 64);
        foreach (var key in new[] { published, pending, stale })
            Directory.CreateDirectory(Path.Combine(areas.PathFor(key), "checkpoint-4"));
        Directory.CreateDirectory(Path.Combine(areas.PathFor(pending), "checkpoint-6.tmp"));
        Directory.CreateDirectory(Path.Combine(areas.Directory, "not-a-key"));
        var old = DateTime.UtcNow.AddDays(-10);
        foreach (var path in Directory.EnumerateFileSystemEntries(areas.PathFor(stale), "*", SearchOption.AllDirectories).Append(areas.PathFor(stale)))
            Directory.SetLastWriteTimeUtc(path, old);

        var listed = new CacheCollector(f.Store).Collect([], TimeSpan.FromDays(7), DateTime.UtcNow, dryRun: true).Removed
            .ToDictionary(r => Path.GetRelativePath(f.Store.Root, r.Path), r => r.Reason);
        Assert.Equal(new Dictionary<string, string>
        {
            [$"checkpoints/{published}"] = "checkpoints of a stage whose artifact is published: nothing left to resume",
            [$"checkpoints/{stale}"] = "checkpoints nobody resumed, last written 10 days ago",
            ["checkpoints/not-a-key"] = "not a checkpoint area (its name is not a stage key)",
            [$"checkpoints/{pending}/checkpoint-6.tmp"] = "half-written checkpoint left by an interrupted run",
        }, listed);
        Assert.True(Directory.Exists(areas.PathFor(published)), "a dry run removes nothing");

        new CacheCollector(f.Store).Collect([], TimeSpan.FromDays(7), DateTime.UtcNow, dryRun: false);
        Assert.Equal([pending], Directory.GetDirectories(areas.Directory).Select(Path.GetFileName));
        Assert.Equal(["checkpoint-4"], Directory.GetDirectories(areas.PathFor(pending)).Select(Path.GetFileName));
        Assert.All(run.Lock.Stages, s => Assert.NotNull(f.Store.TryGet(s.Key!)));
    }
}

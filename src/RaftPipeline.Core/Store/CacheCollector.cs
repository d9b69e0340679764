using RaftPipeline.Core.Engine;
using RaftPipeline.Core.Runs;

namespace RaftPipeline.Core.Store;

/// <summary>
/// <c>raft cache gc</c>. Keeps an entry when the latest run of some pipeline references it (its
/// <c>raft.lock.json</c> lists the key as reused or ran) or when a run used it within <c>keepDays</c>; removes
/// every other entry, every untrusted folder under objects/, and every staging folder under tmp/ (gc holds the
/// cache lock, so no run is writing there: whatever is in tmp/ was left by a killed process), and checkpoint areas
/// that nothing will resume from (<see cref="CheckpointAreas.Collect"/>).
/// "Latest run of a pipeline": among the run folders found under the given roots, the newest lock file per
/// folder that holds runs (runs/&lt;pipeline&gt;/), by its start time.
/// </summary>
public sealed class CacheCollector(ArtifactStore store)
{
    public sealed record Removal(string Path, string Reason, long Bytes);

    /// <param name="runRoots">Folders searched (recursively) for raft.lock.json files: a runs/ folder, a pipeline's folder or one run.</param>
    public IReadOnlyList<Removal> Collect(IEnumerable<string> runRoots, TimeSpan keepUnreferencedFor, DateTime nowUtc, bool dryRun)
    {
        var referenced = ReferencedKeys(runRoots);
        var removals = new List<Removal>();
        foreach (var dir in store.EntryDirectories().ToList())
        {
            var key = Path.GetFileName(dir);
            var entry = ArtifactStore.IsKey(key) ? store.TryGet(key) : null;
            string? reason = null;
            if (entry is null) reason = "untrusted (no valid manifest)";
            else if (!referenced.Contains(key))
            {
                var age = nowUtc - entry.LastUsedUtc;
                if (age > keepUnreferencedFor)
                    reason = $"not referenced by a latest run, last used {age.TotalDays:0.#} days ago";
            }
            if (reason is null) continue;
            removals.Add(new Removal(dir, reason, FolderBytes(dir)));
            if (dryRun) continue;
            if (entry is not null) store.Remove(key);
            else ArtifactStore.DeleteTree(dir);
        }
        removals.AddRange(new CheckpointAreas(store).Collect(keepUnreferencedFor, nowUtc, dryRun)); // its rule: CheckpointAreas
        if (Directory.Exists(store.TempDirectory))
            foreach (var dir in Directory.EnumerateDirectories(store.TempDirectory).Order(StringComparer.Ordinal).ToList())
            {
                removals.Add(new Removal(dir, "staging folder left by an interrupted run", FolderBytes(dir)));
                if (!dryRun) ArtifactStore.DeleteTree(dir);
            }
        return removals;
    }

    /// <summary>The keys listed as reused or ran by the newest lock file of each pipeline's runs folder.</summary>
    public static HashSet<string> ReferencedKeys(IEnumerable<string> runRoots)
    {
        var latest = new Dictionary<string, RunLock>(StringComparer.Ordinal);
        foreach (var root in runRoots)
        {
            if (!Directory.Exists(root)) throw new DirectoryNotFoundException($"runs folder '{root}' does not exist");
            foreach (var path in Directory.EnumerateFiles(root, RunLock.FileName, SearchOption.AllDirectories))
            {
                var runsOfPipeline = Path.GetDirectoryName(Path.GetDirectoryName(Path.GetFullPath(path)))!;
                var run = RunLock.Read(path);
                if (!latest.TryGetValue(runsOfPipeline, out var known) || run.StartedUtc > known.StartedUtc)
                    latest[runsOfPipeline] = run;
            }
        }
        return latest.Values
            .SelectMany(l => l.Stages)
            .Where(s => s.Status is StageStatus.Reused or StageStatus.Ran && s.Key is not null)
            .Select(s => s.Key!)
            .ToHashSet(StringComparer.Ordinal);
    }

    static long FolderBytes(string dir) =>
        Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
}

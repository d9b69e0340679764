using RaftPipeline.Core.Engine;
using RaftPipeline.Core.Runs;

namespace RaftPipeline.Core.Store;

/// <summary>
/// <c>raft cache gc</c>. The retention rule: an entry is kept when
/// <list type="number">
/// <item>it is pinned (<see cref="ArtifactPins"/>);</item>
/// <item>it was exported to a folder that still exists (<see cref="ExportRecords"/>);</item>
/// <item>a kept run used it (reused or ran it). For each pipeline's runs folder (runs/&lt;pipeline&gt;/) and each
/// distinct set of <c>--set</c> overrides, two runs are kept: the newest, and the newest that succeeded. So a smoke
/// run (<c>--set train.max_steps=2</c>) never displaces the full run as written, nor a crashed run the last good
/// one;</item>
/// <item>a run used it within <c>keepUnreferencedFor</c> (the entry folder's mtime).</item>
/// </list>
/// Every other entry is removed, and so is every untrusted folder under objects/ and every staging folder under
/// tmp/ (gc holds the cache lock, so no run is writing there: whatever is in tmp/ was left by a killed process), and
/// checkpoint areas that nothing will resume from (<see cref="CheckpointAreas.Collect"/>).
/// </summary>
public sealed class CacheCollector(ArtifactStore store)
{
    public enum RemovalKind { Entry, Untrusted, Staging, Checkpoint }

    public sealed record Removal(string Path, string Reason, long Bytes, RemovalKind Kind = RemovalKind.Entry);

    /// <summary>An entry gc keeps, with the first rule that keeps it.</summary>
    public sealed record Kept(ArtifactEntry Entry, string Reason, long Bytes);

    public sealed record Result(IReadOnlyList<Removal> Removed, IReadOnlyList<Kept> Kept);

    /// <param name="runRoots">Folders searched (recursively) for raft.lock.json files: a runs/ folder, a pipeline's folder or one run.</param>
    public Result Collect(IEnumerable<string> runRoots, TimeSpan keepUnreferencedFor, DateTime nowUtc, bool dryRun)
    {
        var referenced = ReferencedKeys(runRoots);
        var pins = new ArtifactPins(store);
        var exports = new ExportRecords(store).All()
            .Where(e => Directory.Exists(e.Destination))
            .GroupBy(e => e.Key, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.First().Destination, StringComparer.Ordinal);
        var removals = new List<Removal>();
        var kept = new List<Kept>();
        foreach (var dir in store.EntryDirectories().ToList())
        {
            var key = Path.GetFileName(dir);
            var entry = ArtifactStore.IsKey(key) ? store.TryGet(key) : null;
            if (entry is null)
            {
                removals.Add(new Removal(dir, "untrusted (no valid manifest)", FolderBytes(dir), RemovalKind.Untrusted));
                if (!dryRun) ArtifactStore.DeleteTree(dir);
                continue;
            }
            var age = nowUtc - entry.LastUsedUtc;
            var keep =
                pins.IsPinned(key) ? "pinned"
                : exports.TryGetValue(key, out var destination) ? $"exported to {destination}"
                : referenced.TryGetValue(key, out var run) ? $"used by {run}"
                : age <= keepUnreferencedFor ? $"used {Days(age)} ago (within {Days(keepUnreferencedFor)})"
                : null;
            var bytes = FolderBytes(dir);
            if (keep is not null)
            {
                kept.Add(new Kept(entry, keep, bytes));
                continue;
            }
            // A pin made while gc ran wins (pinning takes no lock): look again just before removing.
            if (!dryRun && pins.IsPinned(key))
            {
                kept.Add(new Kept(entry, "pinned", bytes));
                continue;
            }
            removals.Add(new Removal(dir, $"in no kept run, neither pinned nor exported, last used {Days(age)} ago", bytes));
            if (!dryRun) store.Remove(key);
        }
        removals.AddRange(new CheckpointAreas(store).Collect(keepUnreferencedFor, nowUtc, dryRun) // its rule: CheckpointAreas
            .Select(r => r with { Kind = RemovalKind.Checkpoint }));
        if (Directory.Exists(store.TempDirectory))
            foreach (var dir in Directory.EnumerateDirectories(store.TempDirectory).Order(StringComparer.Ordinal).ToList())
            {
                removals.Add(new Removal(dir, "staging folder left by an interrupted run", FolderBytes(dir), RemovalKind.Staging));
                if (!dryRun) ArtifactStore.DeleteTree(dir);
            }
        return new Result(removals, kept);
    }

    /// <summary>
    /// The keys used (reused or ran) by the kept runs found under <paramref name="runRoots"/>, each with a description
    /// of the run that keeps it: per pipeline runs folder and set of overrides, the newest run and the newest
    /// succeeded run.
    /// </summary>
    public static Dictionary<string, string> ReferencedKeys(IEnumerable<string> runRoots)
    {
        var newest = new Dictionary<string, (RunLock Lock, string Folder)>(StringComparer.Ordinal);
        var newestSucceeded = new Dictionary<string, (RunLock Lock, string Folder)>(StringComparer.Ordinal);
        var noLinks = new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = FileAttributes.ReparsePoint };
        foreach (var root in runRoots)
        {
            if (!Directory.Exists(root)) throw new DirectoryNotFoundException($"runs folder '{root}' does not exist");
            // Not through the stages/<name>/artifact links: they lead into the cache.
            foreach (var path in Directory.EnumerateFiles(root, RunLock.FileName, noLinks))
            {
                var runFolder = Path.GetDirectoryName(Path.GetFullPath(path))!;
                var runsOfPipeline = Path.GetDirectoryName(runFolder)!;
                RunLock run;
                try { run = RunLock.Read(path); }
                catch (Exception e) when (e is InvalidDataException or System.Text.Json.JsonException or IOException)
                {
                    continue; // not a run this tool can read; it references nothing
                }
                var group = runsOfPipeline + "\n" + string.Join("\n", OverridesOf(run, runFolder).Order(StringComparer.Ordinal));
                if (!newest.TryGetValue(group, out var known) || run.StartedUtc > known.Lock.StartedUtc)
                    newest[group] = (run, runFolder);
                if (run.Status == "succeeded" && (!newestSucceeded.TryGetValue(group, out var good) || run.StartedUtc > good.Lock.StartedUtc))
                    newestSucceeded[group] = (run, runFolder);
            }
        }
        var keys = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (which, runs) in new[] { ("the latest run", newest), ("the latest succeeded run", newestSucceeded) })
            foreach (var (run, folder) in runs.Values)
            {
                var overrides = OverridesOf(run, folder);
                var label = $"{which} of {run.Pipeline}{(overrides.Count > 0 ? $" with --set {string.Join(" --set ", overrides)}" : "")} ({Path.GetFileName(folder)})";
                foreach (var s in run.Stages)
                    if (s.Status is StageStatus.Reused or StageStatus.Ran && s.Key is not null)
                        keys.TryAdd(s.Key, label);
            }
        return keys;
    }

    /// <summary>
    /// The run's overrides: from its lock file, or, for a lock file older than that record, from the
    /// <c>"# with --set ..."</c> line of the spec.resolved.yaml beside it.
    /// </summary>
    static IReadOnlyList<string> OverridesOf(RunLock run, string runFolder)
    {
        if (run.Overrides is { } recorded) return recorded;
        var resolved = Path.Combine(runFolder, RunFolder.ResolvedSpecFileName);
        if (!File.Exists(resolved)) return [];
        const string marker = "# with --set ";
        foreach (var line in File.ReadLines(resolved).Take(5))
            if (line.StartsWith(marker, StringComparison.Ordinal))
                return line[marker.Length..].Split(" --set ", StringSplitOptions.RemoveEmptyEntries);
        return [];
    }

    static string Days(TimeSpan t) => t.TotalDays >= 1 ? $"{t.TotalDays:0.#} days" : $"{t.TotalHours:0.#} hours";

    static long FolderBytes(string dir) =>
        Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
}

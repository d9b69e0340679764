namespace RaftPipeline.Core.Store;

/// <summary>
/// <c>&lt;cache&gt;/checkpoints/&lt;stage key&gt;/</c>: scratch space a stage writes while it runs (the train stage's
/// resumable checkpoints) that, unlike its staging folder under tmp/, survives a failed, cancelled or killed attempt,
/// so a rerun of the same key picks up where the last one stopped. What is inside is the stage's business: it writes
/// each piece aside and renames it into place, so it never trusts a half-written one. The engine only hands the folder
/// to the stage, clears it for <c>raft run --no-resume</c> and removes it once the key's artifact is published.
/// Never read by another stage and never hashed: an artifact is the same whether or not its stage resumed.
/// <para>
/// <c>cache gc</c> (<see cref="Collect"/>) removes an area whose key has a published artifact (the run was killed
/// between publishing and cleaning up: nothing is left to resume), an area nothing was written to for longer than
/// gc's keep period (the same <c>--keep-days</c> that keeps unreferenced artifacts: nobody came back to resume it),
/// a folder here that is not named by a key, and inside kept areas the half-written <c>*.tmp</c> folders of killed
/// saves (gc holds the cache lock, so no run is writing them).
/// </para>
/// </summary>
public sealed class CheckpointAreas(ArtifactStore store)
{
    public const string FolderName = "checkpoints";

    /// <summary>Suffix of a folder still being written (the trainer's <c>checkpoint-N.tmp</c>); never trusted.</summary>
    public const string PartialSuffix = ".tmp";

    public string Directory => Path.Combine(store.Root, FolderName);

    /// <summary>The area of <paramref name="key"/> (not created: the stage creates it when it first writes).</summary>
    public string PathFor(string key)
    {
        if (!ArtifactStore.IsKey(key)) throw new ArgumentException($"'{key}' is not a stage key (64 lower-case hex digits)", nameof(key));
        return Path.Combine(Directory, key);
    }

    /// <summary>Whether the area of <paramref name="key"/> holds anything.</summary>
    public bool HasContent(string key) =>
        System.IO.Directory.Exists(PathFor(key)) && System.IO.Directory.EnumerateFileSystemEntries(PathFor(key)).Any();

    /// <summary>
    /// Removes the area of <paramref name="key"/>: first renamed into tmp/ (one atomic step, so a kill never leaves a
    /// half-deleted checkpoint that a rerun would resume from), then deleted. Returns whether there was one.
    /// </summary>
    public bool Remove(string key)
    {
        var dir = PathFor(key);
        if (!System.IO.Directory.Exists(dir)) return false;
        System.IO.Directory.CreateDirectory(store.TempDirectory);
        var doomed = Path.Combine(store.TempDirectory, $"checkpoints-{key[..12]}-{Guid.NewGuid():N}");
        System.IO.Directory.Move(dir, doomed);
        ArtifactStore.DeleteTree(doomed);
        return true;
    }

    /// <summary>gc's rule for this folder (see the class summary). Call it holding the cache lock.</summary>
    public IReadOnlyList<CacheCollector.Removal> Collect(TimeSpan keepFor, DateTime nowUtc, bool dryRun)
    {
        var removals = new List<CacheCollector.Removal>();
        if (!System.IO.Directory.Exists(Directory)) return removals;
        foreach (var dir in System.IO.Directory.EnumerateDirectories(Directory).Order(StringComparer.Ordinal).ToList())
        {
            var key = Path.GetFileName(dir);
            string? reason = null;
            if (!ArtifactStore.IsKey(key)) reason = "not a checkpoint area (its name is not a stage key)";
            else if (store.Contains(key)) reason = "checkpoints of a stage whose artifact is published: nothing left to resume";
            else if (nowUtc - LastWriteUtc(dir) is var age && age > keepFor)
                reason = $"checkpoints nobody resumed, last written {age.TotalDays:0.#} days ago";
            if (reason is not null)
            {
                removals.Add(new CacheCollector.Removal(dir, reason, Bytes(dir)));
                if (dryRun) continue;
                if (ArtifactStore.IsKey(key)) Remove(key);
                else ArtifactStore.DeleteTree(dir);
                continue;
            }
            foreach (var partial in System.IO.Directory.EnumerateDirectories(dir, "*" + PartialSuffix).Order(StringComparer.Ordinal).ToList())
            {
                removals.Add(new CacheCollector.Removal(partial, "half-written checkpoint left by an interrupted run", Bytes(partial)));
                if (!dryRun) ArtifactStore.DeleteTree(partial);
            }
        }
        return removals;
    }

    /// <summary>The newest write in the area: the folder itself (a checkpoint renamed into it) or a checkpoint in it.</summary>
    static DateTime LastWriteUtc(string dir) =>
        System.IO.Directory.EnumerateFileSystemEntries(dir, "*", SearchOption.AllDirectories)
            .Select(System.IO.File.GetLastWriteTimeUtc)
            .Append(System.IO.Directory.GetLastWriteTimeUtc(dir))
            .Max();

    static long Bytes(string dir) =>
        System.IO.Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
}

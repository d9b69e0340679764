namespace RaftPipeline.Core.Store;

/// <summary>A destination an export may not write to (the message says why and what to do).</summary>
public sealed class ExportRefusedException(string message) : IOException(message);

/// <summary>
/// Copies a stage's artifact out of the cache into a folder of the user's (<c>raft run --export STAGE=DIR</c>, a
/// spec's top-level <c>export:</c>): every file writable (the cache's copies are read-only), and atomically: the
/// copy is made in a hidden folder beside the destination, then renamed onto it, so the destination is at every
/// instant either what it was or the whole new copy, never half of one.
/// <para>What it replaces: a missing or empty folder; a folder this cache exported to before (its record in
/// <see cref="ExportRecords"/>), whatever is in it now; anything else non-empty only with <c>force</c>. It never
/// writes inside the cache.</para>
/// </summary>
public sealed class ArtifactExporter(ArtifactStore store)
{
    public ExportRecords Records { get; } = new(store);

    /// <param name="force">Replace a non-empty folder this cache did not export to.</param>
    /// <exception cref="ExportRefusedException">The destination is a file, lies in the cache, or is an unrelated non-empty folder without <paramref name="force"/>.</exception>
    public ExportRecords.Export Export(ArtifactEntry entry, string destination, bool force, DateTime nowUtc)
    {
        var target = Path.TrimEndingDirectorySeparator(Path.GetFullPath(destination));
        if (File.Exists(target)) throw new ExportRefusedException($"{target} is a file; expected a folder to export into");
        if (IsWithin(target, store.Root) || IsWithin(store.Root, target))
            throw new ExportRefusedException($"{target} is in the cache {store.Root} (or holds it); choose a folder outside it");
        var occupied = Directory.Exists(target) && Directory.EnumerateFileSystemEntries(target).Any();
        if (occupied && !force && Records.Find(target) is null)
            throw new ExportRefusedException(
                $"{target} is not empty and this cache did not export to it; choose a new or empty folder, or pass --force to replace its contents");

        var parent = Path.GetDirectoryName(target)!;
        Directory.CreateDirectory(parent);
        var name = Path.GetFileName(target);
        var staging = Path.Combine(parent, $".{name}.raft-export-{Guid.NewGuid():N}");
        try
        {
            WritableFiles.CopyTree(entry.DataDirectory, staging);
            if (Directory.Exists(target))
            {
                var old = Path.Combine(parent, $".{name}.raft-replaced-{Guid.NewGuid():N}");
                Directory.Move(target, old);
                try
                {
                    Directory.Move(staging, target);
                }
                catch
                {
                    Directory.Move(old, target); // put the user's folder back as it was
                    throw;
                }
                ArtifactStore.DeleteTree(old);
            }
            else
            {
                Directory.Move(staging, target);
            }
        }
        finally
        {
            if (Directory.Exists(staging)) ArtifactStore.DeleteTree(staging);
        }
        var record = new ExportRecords.Export(target, entry.Key, entry.Manifest.Stage, entry.Manifest.Pipeline, nowUtc);
        Records.Add(record);
        return record;
    }

    static bool IsWithin(string path, string folder)
    {
        var comparison = OperatingSystem.IsWindows() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
        var f = Path.TrimEndingDirectorySeparator(Path.GetFullPath(folder));
        return path.Equals(f, comparison) || path.StartsWith(f + Path.DirectorySeparatorChar, comparison);
    }
}

using System.Globalization;
using RaftPipeline.Core.Runs;
using RaftPipeline.Core.Store;
using RaftPipeline.Cli.Console;

namespace RaftPipeline.Cli.Commands.Cache;

/// <summary>
/// <c>raft cache ls | gc | verify</c> over one cache folder.
/// <list type="bullet">
/// <item><c>ls</c>: every entry (key prefix, pipeline, stage, kind, files, size, created, last used), oldest first.</item>
/// <item><c>gc</c>: keeps entries referenced by the latest run of each pipeline found under the <c>--runs</c>
/// folders, and entries used within <c>--keep-days</c> (7 by default); removes the others, untrusted folders,
/// and staging folders left by killed runs. Takes the cache lock, so it never races a run.</item>
/// <item><c>verify</c>: rehashes every entry's files against its manifest; lists tampered entries, and the entries built
/// from them (see <see cref="CacheVerifier.VerifyAll"/>), and exits 1 when there are any; <c>--remove</c> deletes them
/// so the next run rebuilds them.</item>
/// </list>
/// </summary>
public static class CacheCommand
{
    public static int List(string cacheRoot, TextWriter output, TextWriter error)
    {
        var store = new ArtifactStore(cacheRoot);
        if (MissingCache(store, error)) return RaftCli.ExitCodes.BadInput;
        var entries = store.Entries().OrderBy(e => e.Manifest.CreatedUtc).ToList();
        if (entries.Count == 0)
        {
            output.WriteLine($"cache {store.Root}: empty");
            return RaftCli.ExitCodes.Ok;
        }
        var rows = entries.Select(e => new[]
        {
            Formats.ShortKey(e.Key), e.Manifest.Pipeline ?? "-", e.Manifest.Stage, e.Manifest.Kind,
            e.Manifest.Files.Count.ToString(CultureInfo.InvariantCulture), Formats.Bytes(e.Manifest.TotalBytes),
            Time(e.Manifest.CreatedUtc), Time(e.LastUsedUtc),
        }).ToList();
        WriteTable(output, ["key", "pipeline", "stage", "kind", "files", "size", "created (UTC)", "last used (UTC)"], rows);
        output.WriteLine($"{entries.Count} entr{(entries.Count == 1 ? "y" : "ies")}, {Formats.Bytes(entries.Sum(e => e.Manifest.TotalBytes))} in {store.Root}");
        return RaftCli.ExitCodes.Ok;
    }

    public static int Collect(string cacheRoot, IReadOnlyList<string> runRoots, double keepDays, bool dryRun, TextWriter output, TextWriter error)
    {
        var store = new ArtifactStore(cacheRoot);
        if (!Directory.Exists(store.Root))
        {
            output.WriteLine($"cache {store.Root}: nothing to collect (no such folder)");
            return RaftCli.ExitCodes.Ok;
        }
        foreach (var root in runRoots.Where(r => !Directory.Exists(r)))
        {
            error.WriteLine($"runs folder '{root}' does not exist");
            return RaftCli.ExitCodes.BadInput;
        }
        using var held = TryLock(store, "raft cache gc", error);
        if (held is null) return RaftCli.ExitCodes.Failed;
        var removed = new CacheCollector(store).Collect(runRoots, TimeSpan.FromDays(keepDays), DateTime.UtcNow, dryRun);
        foreach (var r in removed)
            output.WriteLine($"{(dryRun ? "would remove" : "removed")} {Path.GetRelativePath(store.Root, r.Path)} ({Formats.Bytes(r.Bytes)}): {r.Reason}");
        output.WriteLine($"{(dryRun ? "would free" : "freed")} {Formats.Bytes(removed.Sum(r => r.Bytes))} in {removed.Count} folder{(removed.Count == 1 ? "" : "s")}; " +
                         $"{store.Entries().Count()} entries kept");
        return RaftCli.ExitCodes.Ok;
    }

    public static int Verify(string cacheRoot, bool remove, TextWriter output, TextWriter error)
    {
        var store = new ArtifactStore(cacheRoot);
        if (MissingCache(store, error)) return RaftCli.ExitCodes.BadInput;
        using var held = remove ? TryLock(store, "raft cache verify --remove", error) : null;
        if (remove && held is null) return RaftCli.ExitCodes.Failed;
        var checkedCount = 0;
        var findings = CacheVerifier.VerifyAll(store, _ => checkedCount++);
        foreach (var finding in findings)
        {
            error.WriteLine(finding.Downstream ? $"untrusted {finding.Key}:" : $"tampered {finding.Key}:");
            foreach (var p in finding.Problems) error.WriteLine($"  {p}");
            if (!remove) continue;
            if (ArtifactStore.IsKey(finding.Key) && store.TryGet(finding.Key) is not null) store.Remove(finding.Key);
            else ArtifactStore.DeleteTree(finding.EntryDirectory);
            error.WriteLine("  removed; the next run rebuilds it");
        }
        var tampered = findings.Count(f => !f.Downstream);
        var downstream = findings.Count - tampered;
        output.WriteLine($"{checkedCount} entr{(checkedCount == 1 ? "y" : "ies")} checked, {tampered} tampered" +
                         (downstream > 0 ? $", {downstream} built from tampered or changed artifacts" : ""));
        return findings.Count == 0 ? RaftCli.ExitCodes.Ok : RaftCli.ExitCodes.Failed;
    }

    /// <summary>A cache folder that does not exist is a mistyped path, not an empty cache: say so.</summary>
    static bool MissingCache(ArtifactStore store, TextWriter error)
    {
        if (Directory.Exists(store.Root)) return false;
        error.WriteLine(File.Exists(store.Root)
            ? $"cache '{store.Root}' is a file, not a cache folder"
            : $"cache folder '{store.Root}' does not exist");
        return true;
    }

    static CacheLock? TryLock(ArtifactStore store, string purpose, TextWriter error)
    {
        try
        {
            return CacheLock.AcquireAsync(store.Root, purpose, TimeSpan.Zero, null, CancellationToken.None).GetAwaiter().GetResult();
        }
        catch (CacheLockTimeoutException e)
        {
            error.WriteLine($"the cache is in use: {e.Owner?.ToString() ?? "another process"} holds its lock; try again when it finishes");
            return null;
        }
    }

    static string Time(DateTime utc) => utc.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture);

    static void WriteTable(TextWriter output, string[] header, List<string[]> rows)
    {
        var widths = header.Select((h, i) => Math.Max(h.Length, rows.Max(r => r[i].Length))).ToArray();
        output.WriteLine(string.Join("  ", header.Select((h, i) => h.PadRight(widths[i]))).TrimEnd());
        foreach (var row in rows) output.WriteLine(string.Join("  ", row.Select((c, i) => c.PadRight(widths[i]))).TrimEnd());
    }

    /// <summary>The cache a verb works on: <c>--cache</c>, else the spec's (<c>--spec</c>), else ./.raft-cache.</summary>
    public static string? ResolveCache(string? cache, string? specPath, TextWriter error)
    {
        if (cache is not null) return Path.GetFullPath(cache);
        if (specPath is null) return Path.GetFullPath(new Core.Spec.PipelineHeader().Cache);
        var loaded = Core.Spec.SpecLoader.Load(specPath);
        if (loaded.IsValid) return loaded.Spec.CacheDirectory;
        foreach (var e in loaded.Errors) error.WriteLine(e);
        return null;
    }

    /// <summary>The runs folder beside a spec, for gc's default.</summary>
    public static string RunsBeside(string specPath) => Path.Combine(Path.GetDirectoryName(Path.GetFullPath(specPath))!, RunFolder.RunsFolderName);
}

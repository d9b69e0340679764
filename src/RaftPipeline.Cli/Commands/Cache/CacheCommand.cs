using System.Globalization;
using RaftPipeline.Core.Runs;
using RaftPipeline.Core.Store;
using RaftPipeline.Cli.Console;

namespace RaftPipeline.Cli.Commands.Cache;

/// <summary>
/// <c>raft cache ls | gc | pin | unpin | verify</c> over one cache folder.
/// <list type="bullet">
/// <item><c>ls</c>: every entry (key prefix, pipeline, stage, kind, files, size, created, last used), oldest first.</item>
/// <item><c>gc</c>: keeps what <see cref="CacheCollector"/>'s rule keeps (pinned, exported, used by the kept runs
/// under the <c>--runs</c> folders, used within <c>--keep-days</c>, 7 by default), says why for each, and removes the
/// others, untrusted folders, staging folders left by killed runs and dead checkpoint areas. Takes the cache lock, so
/// it never races a run.</item>
/// <item><c>pin</c>/<c>unpin</c>: mark an entry that gc never removes (<see cref="ArtifactPins"/>).</item>
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
        var pins = new ArtifactPins(store);
        var exported = new ExportRecords(store).All().Where(x => Directory.Exists(x.Destination)).Select(x => x.Key).ToHashSet(StringComparer.Ordinal);
        var rows = entries.Select(e => new[]
        {
            Formats.ShortKey(e.Key), e.Manifest.Pipeline ?? "-", e.Manifest.Stage, e.Manifest.Kind,
            e.Manifest.Files.Count.ToString(CultureInfo.InvariantCulture), Formats.Bytes(e.Manifest.TotalBytes),
            Time(e.Manifest.CreatedUtc), Time(e.LastUsedUtc),
            string.Join(",", new[] { pins.IsPinned(e.Key) ? "pinned" : null, exported.Contains(e.Key) ? "exported" : null }.OfType<string>()) is { Length: > 0 } kept ? kept : "-",
        }).ToList();
        WriteTable(output, ["key", "pipeline", "stage", "kind", "files", "size", "created (UTC)", "last used (UTC)", "kept"], rows);
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
        var result = new CacheCollector(store).Collect(runRoots, TimeSpan.FromDays(keepDays), DateTime.UtcNow, dryRun);
        foreach (var k in result.Kept.OrderBy(k => k.Entry.Manifest.CreatedUtc))
            output.WriteLine($"keep {Formats.ShortKey(k.Entry.Key)} {k.Entry.Manifest.Pipeline ?? "-"}/{k.Entry.Manifest.Stage} ({Formats.Bytes(k.Bytes)}): {k.Reason}");
        foreach (var r in result.Removed)
            output.WriteLine($"{(dryRun ? "would remove" : "removed")} {Path.GetRelativePath(store.Root, r.Path)} ({Formats.Bytes(r.Bytes)}): {r.Reason}");
        output.WriteLine(Summary(result, dryRun));
        return RaftCli.ExitCodes.Ok;
    }

    /// <summary>
    /// gc's last line: what was (or would be) removed, by kind, and what stays. The counts are of entries (artifacts),
    /// untrusted folders, staging folders and checkpoint folders apart, so "entries kept" never counts what a dry run only listed.
    /// </summary>
    internal static string Summary(CacheCollector.Result result, bool dryRun)
    {
        string Count(int n, string one, string many) => $"{n} {(n == 1 ? one : many)}";
        var parts = new List<string>();
        foreach (var (kind, one, many) in new[]
                 {
                     (CacheCollector.RemovalKind.Entry, "entry", "entries"),
                     (CacheCollector.RemovalKind.Untrusted, "untrusted folder", "untrusted folders"),
                     (CacheCollector.RemovalKind.Staging, "staging folder", "staging folders"),
                     (CacheCollector.RemovalKind.Checkpoint, "checkpoint folder", "checkpoint folders"),
                 })
        {
            var of = result.Removed.Where(r => r.Kind == kind).ToList();
            if (of.Count > 0) parts.Add($"{Count(of.Count, one, many)} ({Formats.Bytes(of.Sum(r => r.Bytes))})");
        }
        var removed = parts.Count == 0 ? (dryRun ? "would remove nothing" : "removed nothing")
            : $"{(dryRun ? "would remove" : "removed")} {string.Join(", ", parts)}, {(dryRun ? "freeing" : "freed")} {Formats.Bytes(result.Removed.Sum(r => r.Bytes))}";
        return $"{removed}; {(dryRun ? "would keep" : "kept")} {Count(result.Kept.Count, "entry", "entries")} ({Formats.Bytes(result.Kept.Sum(k => k.Bytes))})";
    }

    /// <summary>
    /// <c>raft cache pin TARGET</c>: TARGET is SPEC:STAGE, a STAGE of <paramref name="specPath"/>, or a cached key (or a
    /// unique prefix of at least 8 digits). The entry must be in the cache.
    /// </summary>
    public static int Pin(string cacheRoot, string target, string? specPath, TextWriter output, TextWriter error)
    {
        if (FindKey(cacheRoot, target, specPath, error, pinnedOnly: false) is not { } found) return RaftCli.ExitCodes.BadInput;
        var store = new ArtifactStore(found.CacheRoot);
        if (store.TryGet(found.Key) is not { } entry)
        {
            error.WriteLine($"{target}: {found.Key[..12]} is not in the cache {store.Root}; build it first (dotnet raft run ...)");
            return RaftCli.ExitCodes.BadInput;
        }
        var pin = new ArtifactPins(store).Add(entry, DateTime.UtcNow);
        output.WriteLine($"pinned {Formats.ShortKey(entry.Key)} ({entry.Manifest.Pipeline ?? "-"}/{entry.Manifest.Stage}, {Formats.Bytes(entry.Manifest.TotalBytes)}) " +
                         $"since {Time(pin.PinnedUtc)}: cache gc keeps it until 'raft cache unpin'");
        return RaftCli.ExitCodes.Ok;
    }

    /// <summary><c>raft cache unpin TARGET</c>, TARGET as for <see cref="Pin"/>; a key prefix is matched among the pins.</summary>
    public static int Unpin(string cacheRoot, string target, string? specPath, TextWriter output, TextWriter error)
    {
        if (FindKey(cacheRoot, target, specPath, error, pinnedOnly: true) is not { } found) return RaftCli.ExitCodes.BadInput;
        if (!new ArtifactPins(new ArtifactStore(found.CacheRoot)).Remove(found.Key))
        {
            error.WriteLine($"{target}: {found.Key[..12]} is not pinned");
            return RaftCli.ExitCodes.BadInput;
        }
        output.WriteLine($"unpinned {Formats.ShortKey(found.Key)}: cache gc applies its usual rules to it again");
        return RaftCli.ExitCodes.Ok;
    }

    sealed record FoundKey(string Key, string CacheRoot);

    static FoundKey? FindKey(string cacheRoot, string target, string? specPath, TextWriter error, bool pinnedOnly)
    {
        string? spec = null, stage = null;
        if (Artifacts.StageArtifactResolver.TryParse(target, out var s, out var st)) (spec, stage) = (s, st);
        else if (specPath is not null && Core.Spec.SpecLoader.Load(specPath) is { IsValid: true } loaded && loaded.Spec.Stages.Any(x => x.Name == target))
            (spec, stage) = (specPath, target);
        if (spec is not null)
        {
            if (Artifacts.StageArtifactResolver.Resolve(spec, stage!, out var problem) is not { } resolved)
            {
                error.WriteLine($"{target}: {problem}");
                return null;
            }
            return new FoundKey(resolved.Key, resolved.CacheRoot);
        }
        if (target.Length >= 8 && target.All(c => c is >= '0' and <= '9' or >= 'a' and <= 'f'))
        {
            var store = new ArtifactStore(cacheRoot);
            var keys = pinnedOnly
                ? new ArtifactPins(store).All().Select(p => p.Key)
                : store.Entries().Select(e => e.Key);
            var matches = keys.Where(k => k.StartsWith(target, StringComparison.Ordinal)).Distinct().ToList();
            if (matches.Count == 1) return new FoundKey(matches[0], store.Root);
            error.WriteLine(matches.Count == 0
                ? $"{target}: no {(pinnedOnly ? "pinned" : "cached")} key starts with it in {store.Root}"
                : $"{target}: {matches.Count} keys start with it; give more digits");
            return null;
        }
        error.WriteLine(specPath is null
            ? $"{target}: expected SPEC:STAGE (e.g. pipeline.yaml:merged), a stage with --spec FILE, or a key from 'raft cache ls'"
            : $"{target}: not a stage of {specPath}, nor a key; expected a stage name, SPEC:STAGE or a key from 'raft cache ls'");
        return null;
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

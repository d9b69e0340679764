namespace RaftPipeline.Core.Store;

/// <summary>
/// Checks cache entries against their manifests, at two costs:
/// <list type="bullet">
/// <item><see cref="CheckFiles"/> (cheap, on every reuse): the data folder and every file of the manifest exist with
/// their recorded sizes. Catches a deleted folder, a deleted or truncated file.</item>
/// <item><see cref="Verify"/> (rehashes, for <c>run --verify</c> and <c>cache verify</c>): also a file changed in
/// place, a file added since publishing, a manifest that does not parse or names another key.</item>
/// </list>
/// <see cref="VerifyAll"/> adds the downstream rule: an entry built from a tampered artifact, or from an artifact
/// whose content is no longer the one it recorded, is as untrusted as the tampered one.
/// </summary>
public static class CacheVerifier
{
    /// <summary>The cheap problems of <paramref name="entry"/>: a missing data folder, a missing file, a file of another size.</summary>
    public static IReadOnlyList<string> CheckFiles(ArtifactEntry entry)
    {
        var data = entry.DataDirectory;
        if (!Directory.Exists(data)) return ["data folder missing"];
        var problems = new List<string>();
        foreach (var file in entry.Manifest.Files)
        {
            var info = new FileInfo(Path.Combine(data, file.Path));
            if (!info.Exists) problems.Add($"{file.Path}: missing");
            else if (info.Length != file.Size) problems.Add($"{file.Path}: size {info.Length} bytes, manifest says {file.Size}");
        }
        return problems;
    }

    /// <summary>The problems of the entry in <paramref name="entryDirectory"/>; empty when it is intact.</summary>
    public static IReadOnlyList<string> Verify(string entryDirectory) => Inspect(entryDirectory).Problems;

    /// <summary>
    /// What <see cref="Verify"/> found, and whether any of it could have been read by a downstream stage without
    /// <see cref="CheckFiles"/> noticing (<paramref name="Silent"/>): a file changed in place at its size, a file added,
    /// a broken manifest. A missing or resized file cannot have been: every reuse checks sizes first.
    /// </summary>
    public sealed record Inspection(IReadOnlyList<string> Problems, bool Silent);

    public static Inspection Inspect(string entryDirectory)
    {
        var problems = new List<string>();
        var silent = false;
        var manifestPath = Path.Combine(entryDirectory, ArtifactManifest.FileName);
        if (!File.Exists(manifestPath)) return new(["no manifest.json"], true);
        ArtifactManifest manifest;
        try
        {
            manifest = ArtifactManifest.Read(manifestPath);
        }
        catch (InvalidDataException e)
        {
            return new([e.Message], true);
        }
        var folderKey = Path.GetFileName(entryDirectory);
        if (manifest.Key != folderKey)
        {
            problems.Add($"manifest key {manifest.Key} differs from the folder name {folderKey}");
            silent = true;
        }

        var data = Path.Combine(entryDirectory, ArtifactStore.DataFolderName);
        if (!Directory.Exists(data)) return new([.. problems, "data folder missing"], silent);
        var expected = manifest.Files.ToDictionary(f => f.Path, StringComparer.Ordinal);
        foreach (var path in Directory.EnumerateFiles(data, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            var relative = Path.GetRelativePath(data, path).Replace('\\', '/');
            if (!expected.Remove(relative, out var file))
            {
                problems.Add($"{relative}: not in the manifest (added after publishing)");
                silent = true;
                continue;
            }
            var size = new FileInfo(path).Length;
            if (size != file.Size)
                problems.Add($"{relative}: size {size} bytes, manifest says {file.Size}");
            else if (ContentHash.OfFile(path) is var hash && hash != file.Sha256)
            {
                problems.Add($"{relative}: sha256 {hash[..12]}…, manifest says {file.Sha256[..12]}…");
                silent = true;
            }
        }
        foreach (var missing in expected.Keys.Order(StringComparer.Ordinal))
            problems.Add($"{missing}: missing");
        return new(problems, silent);
    }

    /// <summary>
    /// Why <paramref name="manifest"/>'s entry cannot be trusted because of what it was built from, or null:
    /// an upstream artifact in <paramref name="tampered"/> (key → why), or one whose current content digest
    /// (<paramref name="currentDigest"/>, null when that entry is not in the cache) differs from the one recorded.
    /// </summary>
    public static string? UpstreamProblem(
        ArtifactManifest manifest, IReadOnlyDictionary<string, string> tampered, Func<string, string?> currentDigest)
    {
        foreach (var input in manifest.UpstreamInputs())
        {
            if (tampered.ContainsKey(input.Key))
                return $"built from stage '{input.Stage}''s artifact {input.Key[..Math.Min(12, input.Key.Length)]}, which was tampered with";
            if (input.Digest is { } recorded && currentDigest(input.Key) is { } now && now != recorded)
                return $"built from another content of stage '{input.Stage}''s artifact {input.Key[..Math.Min(12, input.Key.Length)]} " +
                       $"(content {Short(recorded)} then, {Short(now)} now)";
        }
        return null;
    }

    /// <summary>One untrusted entry of <see cref="VerifyAll"/>: its folder, and what is wrong with it.</summary>
    public sealed record Finding(string EntryDirectory, string Key, string? Stage, IReadOnlyList<string> Problems, bool Downstream);

    /// <summary>
    /// Rehashes every entry folder under objects/, then marks every entry built (directly or not) from a silently
    /// tampered one (see <see cref="Inspection"/>), or from an upstream content other than the one it recorded.
    /// An entry whose upstream merely lost files is kept: it was built before the loss. Ordered by folder.
    /// </summary>
    public static IReadOnlyList<Finding> VerifyAll(ArtifactStore store, Action<string>? onChecked = null)
    {
        var findings = new Dictionary<string, Finding>(StringComparer.Ordinal);
        var tampered = new Dictionary<string, string>(StringComparer.Ordinal); // what a downstream stage may have read unnoticed
        var trusted = new Dictionary<string, ArtifactManifest>(StringComparer.Ordinal);
        foreach (var dir in store.EntryDirectories())
        {
            onChecked?.Invoke(dir);
            var key = Path.GetFileName(dir);
            var inspection = Inspect(dir);
            var entry = ArtifactStore.IsKey(key) ? store.TryGet(key) : null;
            if (inspection.Problems.Count > 0)
            {
                findings[key] = new Finding(dir, key, entry?.Manifest.Stage, inspection.Problems, false);
                if (inspection.Silent) tampered[key] = string.Join("; ", inspection.Problems);
            }
            else if (entry is not null) trusted[key] = entry.Manifest;
        }
        // Downstream closure: repeat until no entry joins (a chain of n stages takes n passes).
        var changed = true;
        while (changed)
        {
            changed = false;
            foreach (var (key, manifest) in trusted.ToList())
            {
                var why = UpstreamProblem(manifest, tampered, k => trusted.TryGetValue(k, out var m) ? m.ContentDigest : null);
                if (why is null) continue;
                findings[key] = new Finding(store.EntryDirectory(key), key, manifest.Stage, [why], true);
                trusted.Remove(key);
                tampered[key] = why;
                changed = true;
            }
        }
        return findings.Values.OrderBy(f => f.EntryDirectory, StringComparer.Ordinal).ToList();
    }

    static string Short(string digest) => digest[..Math.Min(12, digest.Length)] + "…";
}

namespace RaftPipeline.Core.Store;

/// <summary>
/// Rehashes a cache entry's files and compares them with its manifest: a file missing, resized, changed, or
/// added since publishing; a manifest that does not parse or names another key.
/// </summary>
public static class CacheVerifier
{
    /// <summary>The problems of the entry in <paramref name="entryDirectory"/>; empty when it is intact.</summary>
    public static IReadOnlyList<string> Verify(string entryDirectory)
    {
        var problems = new List<string>();
        var manifestPath = Path.Combine(entryDirectory, ArtifactManifest.FileName);
        if (!File.Exists(manifestPath)) return ["no manifest.json"];
        ArtifactManifest manifest;
        try
        {
            manifest = ArtifactManifest.Read(manifestPath);
        }
        catch (InvalidDataException e)
        {
            return [e.Message];
        }
        var folderKey = Path.GetFileName(entryDirectory);
        if (manifest.Key != folderKey) problems.Add($"manifest key {manifest.Key} differs from the folder name {folderKey}");

        var data = Path.Combine(entryDirectory, ArtifactStore.DataFolderName);
        if (!Directory.Exists(data)) return [.. problems, "no data folder"];
        var expected = manifest.Files.ToDictionary(f => f.Path, StringComparer.Ordinal);
        foreach (var path in Directory.EnumerateFiles(data, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            var relative = Path.GetRelativePath(data, path).Replace('\\', '/');
            if (!expected.Remove(relative, out var file))
            {
                problems.Add($"{relative}: not in the manifest (added after publishing)");
                continue;
            }
            var size = new FileInfo(path).Length;
            if (size != file.Size)
                problems.Add($"{relative}: size {size} bytes, manifest says {file.Size}");
            else if (ContentHash.OfFile(path) is var hash && hash != file.Sha256)
                problems.Add($"{relative}: sha256 {hash[..12]}…, manifest says {file.Sha256[..12]}…");
        }
        foreach (var missing in expected.Keys.Order(StringComparer.Ordinal))
            problems.Add($"{missing}: missing");
        return problems;
    }
}

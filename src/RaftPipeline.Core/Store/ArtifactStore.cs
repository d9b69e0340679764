namespace RaftPipeline.Core.Store;

/// <summary>
/// The content-addressed artifact cache:
/// <code>
/// &lt;root&gt;/objects/&lt;key[0:2]&gt;/&lt;key&gt;/manifest.json   what it is, what it came from, its files and their hashes
/// &lt;root&gt;/objects/&lt;key[0:2]&gt;/&lt;key&gt;/data/          the stage's files (what downstream stages read)
/// &lt;root&gt;/tmp/                                 staging folders; anything here is untrusted
/// &lt;root&gt;/lock, lock.owner.json               the cache-wide lock (<see cref="CacheLock"/>)
/// &lt;root&gt;/input-hashes.json                    the external-input hash memo (<see cref="InputHashMemo"/>)
/// </code>
/// Publishing: the stage writes into a staging folder, the manifest is written last (flushed), then one
/// rename moves the staging folder to its entry path. A rename is atomic on one file system, so at any
/// instant an entry either does not exist or is complete. An entry is trusted only when its manifest parses
/// and names its own key. Published data files are made read-only so a stage cannot scribble on its input.
/// </summary>
public sealed class ArtifactStore
{
    public const string DataFolderName = "data";
    /// <summary>
    /// Beside data/: a copy of the human-facing files the stage wrote into its run's report folder, so a run that
    /// reuses the entry shows the same tables and plots. Not part of the artifact's content (not hashed, not read
    /// by other stages).
    /// </summary>
    public const string ReportFolderName = "report";
    public const string ObjectsFolderName = "objects";
    public const string TempFolderName = "tmp";

    public ArtifactStore(string root)
    {
        Root = Path.GetFullPath(root);
    }

    public string Root { get; }
    public string ObjectsDirectory => Path.Combine(Root, ObjectsFolderName);
    public string TempDirectory => Path.Combine(Root, TempFolderName);

    public string EntryDirectory(string key)
    {
        ValidateKey(key);
        return Path.Combine(ObjectsDirectory, key[..2], key);
    }

    /// <summary>The trusted entry for <paramref name="key"/>, or null when there is none.</summary>
    public ArtifactEntry? TryGet(string key)
    {
        var dir = EntryDirectory(key);
        var manifestPath = Path.Combine(dir, ArtifactManifest.FileName);
        if (!File.Exists(manifestPath)) return null;
        try
        {
            var manifest = ArtifactManifest.Read(manifestPath);
            return manifest.Key == key ? new ArtifactEntry(key, dir, manifest) : null;
        }
        catch (InvalidDataException)
        {
            return null;
        }
    }

    public bool Contains(string key) => TryGet(key) is not null;

    /// <summary>Every entry folder under objects/, trusted or not (see <see cref="CacheVerifier"/>).</summary>
    public IEnumerable<string> EntryDirectories()
    {
        if (!Directory.Exists(ObjectsDirectory)) yield break;
        foreach (var shard in Directory.EnumerateDirectories(ObjectsDirectory).OrderBy(d => d, StringComparer.Ordinal))
        foreach (var entry in Directory.EnumerateDirectories(shard).OrderBy(d => d, StringComparer.Ordinal))
            yield return entry;
    }

    /// <summary>Every trusted entry.</summary>
    public IEnumerable<ArtifactEntry> Entries()
    {
        foreach (var dir in EntryDirectories())
        {
            var key = Path.GetFileName(dir);
            if (!IsKey(key)) continue;
            if (TryGet(key) is { } entry) yield return entry;
        }
    }

    public StagingArea BeginStaging(string key)
    {
        ValidateKey(key);
        var dir = Path.Combine(TempDirectory, $"{key[..12]}-{Environment.ProcessId}-{Guid.NewGuid():N}");
        return new StagingArea(key, dir);
    }

    /// <summary>
    /// Hashes the staged files, writes the manifest last, and renames the staging folder into place.
    /// <paramref name="describe"/> receives the file list and returns the manifest to write.
    /// </summary>
    public ArtifactEntry Publish(StagingArea staging, Func<IReadOnlyList<ManifestFile>, ArtifactManifest> describe)
    {
        var files = ListFiles(staging.DataDirectory);
        var manifest = describe(files);
        if (manifest.Key != staging.Key)
            throw new InvalidOperationException($"manifest key {manifest.Key} differs from the staged key {staging.Key}");
        JsonFiles.WriteAtomically(Path.Combine(staging.Directory, ArtifactManifest.FileName), manifest.ToJson());
        MakeReadOnly(staging.DataDirectory);

        var target = EntryDirectory(staging.Key);
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        if (Directory.Exists(target))
        {
            if (TryGet(staging.Key) is { } existing)
            {
                // Same key, same content by construction: keep the entry already there.
                staging.Dispose();
                return existing;
            }
            // An untrusted folder in the way (it cannot come from this store's own publishing): move it aside.
            Directory.Move(target, Path.Combine(TempDirectory, $"untrusted-{staging.Key[..12]}-{Guid.NewGuid():N}"));
        }
        Directory.Move(staging.Directory, target);
        staging.Published = true;
        return new ArtifactEntry(staging.Key, target, manifest);
    }

    /// <summary>Copies the files of <paramref name="reportDirectory"/> into the staged entry's report/ folder.</summary>
    public static void StageReport(StagingArea staging, string reportDirectory) =>
        CopyTree(reportDirectory, Path.Combine(staging.Directory, ReportFolderName));

    /// <summary>Copies a reused entry's report/ files (if it has any) into <paramref name="reportDirectory"/>.</summary>
    public static void RestoreReport(ArtifactEntry entry, string reportDirectory) =>
        CopyTree(Path.Combine(entry.EntryDirectory, ReportFolderName), reportDirectory);

    static void CopyTree(string from, string to)
    {
        if (!Directory.Exists(from)) return;
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target, overwrite: true);
        }
    }

    /// <summary>Records that a run used this entry (for <c>cache gc</c>'s age rule).</summary>
    public static void MarkUsed(ArtifactEntry entry) => Directory.SetLastWriteTimeUtc(entry.EntryDirectory, DateTime.UtcNow);

    /// <summary>Removes an entry: first renamed into tmp/ (so it stops being trusted at once), then deleted.</summary>
    public void Remove(string key)
    {
        var dir = EntryDirectory(key);
        if (!Directory.Exists(dir)) return;
        Directory.CreateDirectory(TempDirectory);
        var doomed = Path.Combine(TempDirectory, $"removed-{key[..12]}-{Guid.NewGuid():N}");
        Directory.Move(dir, doomed);
        DeleteTree(doomed);
    }

    /// <summary>The files under <paramref name="dataDirectory"/> with sizes and hashes, sorted by path.</summary>
    public static IReadOnlyList<ManifestFile> ListFiles(string dataDirectory)
    {
        var files = new List<ManifestFile>();
        foreach (var path in Directory.EnumerateFiles(dataDirectory, "*", SearchOption.AllDirectories))
        {
            var info = new FileInfo(path);
            if (info.LinkTarget is not null)
                throw new InvalidDataException($"'{path}' is a symbolic link; an artifact must hold real files (copy the target instead)");
            var relative = Path.GetRelativePath(dataDirectory, path).Replace('\\', '/');
            files.Add(new ManifestFile(relative, info.Length, ContentHash.OfFile(path)));
        }
        files.Sort((a, b) => string.CompareOrdinal(a.Path, b.Path));
        return files;
    }

    static void MakeReadOnly(string directory)
    {
        foreach (var path in Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories))
        {
            if (OperatingSystem.IsWindows()) File.SetAttributes(path, File.GetAttributes(path) | FileAttributes.ReadOnly);
            else File.SetUnixFileMode(path, File.GetUnixFileMode(path) & ~(UnixFileMode.UserWrite | UnixFileMode.GroupWrite | UnixFileMode.OtherWrite));
        }
    }

    /// <summary>Deletes a folder tree, including read-only files (which Windows refuses to delete as they are).</summary>
    public static void DeleteTree(string directory)
    {
        if (OperatingSystem.IsWindows())
            foreach (var path in Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories))
                File.SetAttributes(path, FileAttributes.Normal);
        Directory.Delete(directory, recursive: true);
    }

    public static bool IsKey(string s) => s.Length == 64 && s.All(c => c is >= '0' and <= '9' or >= 'a' and <= 'f');

    static void ValidateKey(string key)
    {
        if (!IsKey(key)) throw new ArgumentException($"'{key}' is not a stage key (64 lower-case hex digits)", nameof(key));
    }
}

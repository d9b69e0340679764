using System.Text;

namespace RaftPipeline.Hub.Cache;

/// <summary>
/// The Hugging Face cache as huggingface_hub lays it out (file_download.py), so files either side downloaded are
/// found by the other:
/// <code>
/// {root}/models--{org}--{name}/
///     blobs/{etag}                       the content, named by its etag
///     refs/{revision}                    the commit sha a branch or tag pointed to (no newline)
///     snapshots/{commit}/{path}          relative links into ../../blobs/ (one more ../ per sub-folder)
///     .no_exist/{commit}/{path}          (Python's marker of a known-absent file; read, never needed here)
/// {root}/.locks/models--{org}--{name}/{etag}.lock
/// </code>
/// </summary>
public sealed class HubCache(string root)
{
    public string Root { get; } = Path.GetFullPath(root);

    /// <summary>huggingface_hub's repo_folder_name: <c>models--org--name</c>.</summary>
    public static string RepoFolderName(string repoId) => "models--" + repoId.Replace("/", "--");

    public string RepoFolder(string repoId) => Path.Combine(Root, RepoFolderName(repoId));
    public string BlobPath(string repoId, string etag) => Path.Combine(RepoFolder(repoId), "blobs", etag);
    public string IncompletePath(string repoId, string etag) => BlobPath(repoId, etag) + ".incomplete";
    public string SnapshotFolder(string repoId, string commit) => Path.Combine(RepoFolder(repoId), "snapshots", commit);
    public string SnapshotPath(string repoId, string commit, string file) => Path.Combine(SnapshotFolder(repoId, commit), Native(file));
    public string RefPath(string repoId, string revision) => Path.Combine(RepoFolder(repoId), "refs", Native(revision));
    public string LockPath(string repoId, string etag) => Path.Combine(Root, ".locks", RepoFolderName(repoId), etag + ".lock");

    /// <summary>The commit a revision names: itself when it is a sha, else what <c>refs/</c> recorded; null when unknown.</summary>
    public string? ResolveCommit(string repoId, string revision)
    {
        if (HubModelId.IsCommitSha(revision)) return revision;
        var refPath = RefPath(repoId, revision);
        if (!File.Exists(refPath)) return null;
        var commit = File.ReadAllText(refPath).Trim();
        return HubModelId.IsCommitSha(commit) ? commit : null;
    }

    /// <summary>Records revision → commit (atomically, through a temporary file); nothing when the revision is the commit.</summary>
    public void WriteRef(string repoId, string revision, string commit)
    {
        if (revision == commit) return;
        var refPath = RefPath(repoId, revision);
        if (File.Exists(refPath) && File.ReadAllText(refPath) == commit) return;
        Directory.CreateDirectory(Path.GetDirectoryName(refPath)!);
        var temporary = $"{refPath}.{Guid.NewGuid():N}.tmp";
        File.WriteAllText(temporary, commit, new UTF8Encoding(false));
        File.Move(temporary, refPath, overwrite: true);
    }

    /// <summary>
    /// Places a blob in a snapshot: a relative symbolic link (<c>../../blobs/{etag}</c>), or, with
    /// <paramref name="copy"/> (HF_HUB_DISABLE_SYMLINKS) or where links cannot be made, a copy of the blob.
    /// </summary>
    public void Link(string repoId, string commit, string file, string etag, bool copy)
    {
        var destination = SnapshotPath(repoId, commit, file);
        var blob = BlobPath(repoId, etag);
        Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
        if (File.Exists(destination) || new FileInfo(destination).LinkTarget is not null) File.Delete(destination);
        if (!copy)
        {
            try
            {
                File.CreateSymbolicLink(destination, Path.GetRelativePath(Path.GetDirectoryName(destination)!, blob));
                return;
            }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { } // Windows without developer mode: copy, as Python does
        }
        File.Copy(blob, destination);
    }

    /// <summary>
    /// Whether a snapshot holds <paramref name="file"/> with the content of <paramref name="etag"/>: a link into
    /// that blob (present), or a plain file (Python without symlinks) of the right size.
    /// </summary>
    public bool HasInSnapshot(string repoId, string commit, HubFile file)
    {
        var info = new FileInfo(SnapshotPath(repoId, commit, file.Path));
        if (info.LinkTarget is not null)
        {
            var target = info.ResolveLinkTarget(returnFinalTarget: true);
            return target is FileInfo { Exists: true } && target.Name == file.Etag && ((FileInfo)target).Length == file.Size;
        }
        return info.Exists && info.Length == file.Size;
    }

    /// <summary>
    /// Every file of a cached snapshot with its etag: the name of the blob a link points to, or, for a plain file
    /// (a cache written without links), the SHA-256 of its content. Null when the snapshot folder is absent.
    /// </summary>
    public IReadOnlyList<HubFile>? ReadSnapshot(string repoId, string commit)
    {
        var folder = SnapshotFolder(repoId, commit);
        if (!Directory.Exists(folder)) return null;
        var files = new List<HubFile>();
        foreach (var path in Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(folder, path).Replace('\\', '/');
            var info = new FileInfo(path);
            if (info.LinkTarget is not null)
            {
                if (info.ResolveLinkTarget(returnFinalTarget: true) is not FileInfo { Exists: true } blob)
                    throw new HubException(HubErrorKind.NotCached, $"'{path}' in the Hugging Face cache is a broken link (to '{info.LinkTarget}')");
                files.Add(new HubFile(relative, blob.Name, blob.Length));
            }
            else
            {
                using var stream = File.OpenRead(path);
                files.Add(new HubFile(relative, Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(stream)), info.Length));
            }
        }
        files.Sort((a, b) => string.CompareOrdinal(a.Path, b.Path));
        return files;
    }

    /// <summary>
    /// The repository id of a snapshot folder (<c>…/models--org--name/snapshots/{commit}</c> → <c>org/name</c>); null for
    /// any other folder.
    /// </summary>
    public static string? RepoIdOfSnapshot(string folder)
    {
        var snapshot = new DirectoryInfo(Path.TrimEndingDirectorySeparator(Path.GetFullPath(folder)));
        if (!HubModelId.IsCommitSha(snapshot.Name) || snapshot.Parent is not { Name: "snapshots", Parent: { } repo }
            || !repo.Name.StartsWith("models--", StringComparison.Ordinal))
            return null;
        var parts = repo.Name["models--".Length..].Split("--");
        return parts.Length == 2 && HubModelId.TryParse($"{parts[0]}/{parts[1]}", out var id) ? id.RepoId : null;
    }

    static string Native(string relative) => relative.Replace('/', Path.DirectorySeparatorChar);
}

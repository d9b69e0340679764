using System.Text;

namespace RaftPipeline.Core.Store;

/// <summary>
/// Hashes external inputs by content.
/// <list type="bullet">
/// <item>A file: the SHA-256 of its bytes.</item>
/// <item>A folder: the SHA-256 of the UTF-8 text made of one line <c>"&lt;sha256&gt;  &lt;relative/path&gt;\n"</c> per
/// file, paths relative to the folder with '/' separators, sorted by ordinal (byte) order: the output of
/// <c>LC_ALL=C find . -type f | sort | xargs sha256sum</c> with the leading "./" removed, so a person can
/// check it by hand.</item>
/// </list>
/// Nothing is skipped: hidden files (.gitattributes, .DS_Store) count. Symbolic links are followed (a Hugging
/// Face cache snapshot is made of links into blobs/), hashed under the link's own name; a broken link or a
/// link cycle is an error. Empty folders hold no content and do not change the hash.
/// A Hugging Face model id is not hashed here: its digest is <see cref="OfHubSnapshot"/>, made of its commit and its
/// files' etags (content hashes the Hub gives), so a snapshot of gigabytes is not reread on every run.
/// </summary>
public sealed class ExternalInputHasher(InputHashMemo memo, bool verify = false)
{
    /// <summary>When true the memo is ignored for reading (every file is rehashed) but still refreshed.</summary>
    public bool Verify { get; } = verify;

    public InputDigest Hash(string path)
    {
        var full = Path.GetFullPath(path);
        if (File.Exists(full))
        {
            var (hash, size) = HashFile(full);
            return new InputDigest(full, false, hash, 1, size);
        }
        if (Directory.Exists(full)) return HashFolder(full);
        throw new FileNotFoundException($"input '{full}' does not exist (expected a file or a folder)", full);
    }

    /// <summary>The digest of a Hub input: <see cref="RaftPipeline.Hub.HubSnapshot.ContentKey"/> (commit and file etags).</summary>
    public static InputDigest OfHubSnapshot(RaftPipeline.Hub.HubSnapshot snapshot) =>
        new(snapshot.Folder, true, snapshot.ContentKey, snapshot.Files.Count, snapshot.Bytes, snapshot.Source);

    InputDigest HashFolder(string root)
    {
        var files = new List<(string Relative, string Full)>();
        Walk(root, root, files, new HashSet<string>(StringComparer.Ordinal));
        files.Sort((a, b) => string.CompareOrdinal(a.Relative, b.Relative));
        var listing = new StringBuilder();
        long bytes = 0;
        foreach (var (relative, full) in files)
        {
            var (hash, size) = HashFile(full);
            bytes += size;
            listing.Append(hash).Append("  ").Append(relative).Append('\n');
        }
        return new InputDigest(root, true, ContentHash.OfText(listing.ToString()), files.Count, bytes);
    }

    static void Walk(string root, string folder, List<(string, string)> files, HashSet<string> visited)
    {
        var real = RealPath(new DirectoryInfo(folder));
        if (!visited.Add(real))
            throw new IOException($"folder '{folder}' links back to '{real}', which is already part of input '{root}' (a symbolic link cycle)");
        foreach (var entry in new DirectoryInfo(folder).EnumerateFileSystemInfos())
        {
            var target = entry.LinkTarget is null ? entry : entry.ResolveLinkTarget(returnFinalTarget: true);
            if (target is null || !target.Exists)
                throw new IOException($"'{entry.FullName}' in input '{root}' is a broken symbolic link (to '{entry.LinkTarget}')");
            if (target is DirectoryInfo || (target.Attributes & FileAttributes.Directory) != 0)
                Walk(root, entry.FullName, files, visited);
            else
                files.Add((Path.GetRelativePath(root, entry.FullName).Replace('\\', '/'), entry.FullName));
        }
        visited.Remove(real);
    }

    static string RealPath(DirectoryInfo dir)
    {
        // Resolve each level so a link anywhere above counts: cycles are found by real location.
        var target = dir.LinkTarget is null ? dir : dir.ResolveLinkTarget(returnFinalTarget: true) as DirectoryInfo ?? dir;
        var parent = target.Parent;
        return parent is null ? target.FullName : Path.Combine(RealPath(parent), target.Name);
    }

    (string Hash, long Size) HashFile(string path)
    {
        var info = new FileInfo(path);
        if (info.LinkTarget is not null)
            info = info.ResolveLinkTarget(returnFinalTarget: true) as FileInfo
                   ?? throw new IOException($"'{path}' is a symbolic link to something that is not a file");
        if (!info.Exists) throw new FileNotFoundException($"input file '{path}' does not exist", path);
        var size = info.Length;
        var ticks = info.LastWriteTimeUtc.Ticks;
        // The memo is keyed by the link's target so two links to one blob share an entry.
        if (!Verify && memo.TryGet(info.FullName, size, ticks, out var known)) return (known, size);
        var now = DateTime.UtcNow;
        var hash = ContentHash.OfFile(info.FullName);
        memo.Remember(info.FullName, size, ticks, hash, now);
        return (hash, size);
    }
}

namespace RaftPipeline.Hub.Cache;

/// <summary>
/// One file of a snapshot: its path in the repository ('/' separators), its etag (the SHA-256 for an LFS file,
/// the git blob sha1 for a regular one: the blob's name in the cache) and its size in bytes.
/// </summary>
public sealed record HubFile(string Path, string Etag, long Size)
{
    /// <summary>A 64-hex etag is the SHA-256 of the content (an LFS file).</summary>
    public bool IsLfs => Etag.Length == 64;
}

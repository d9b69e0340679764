namespace RaftPipeline.Hub.Http;

/// <summary>One file of <c>GET /api/models/{id}/revision/{rev}?blobs=true</c>: <c>siblings[]</c>.</summary>
/// <param name="Etag">The LFS sha256 when the file is in LFS, else the git blob id; null when the server gave neither.</param>
public sealed record RepoSibling(string Path, string? Etag, long? Size);

/// <summary>What the revision endpoint says: the commit the revision points to and the files at it.</summary>
public sealed record RevisionInfo(string Commit, IReadOnlyList<RepoSibling> Siblings);

/// <summary>
/// What a <c>HEAD</c> of a resolve URL says (file_download.py, get_hf_file_metadata): <c>X-Repo-Commit</c>,
/// <c>X-Linked-Etag</c> else <c>ETag</c> (without W/ and quotes), <c>X-Linked-Size</c> else <c>Content-Length</c>,
/// and where to GET the bytes (<c>Location</c> of a redirect to a CDN, else the URL itself).
/// </summary>
public sealed record FileMetadata(string Commit, string Etag, long Size, Uri Location);

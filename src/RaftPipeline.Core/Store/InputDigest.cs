namespace RaftPipeline.Core.Store;

/// <summary>The content hash of one external input (a file or a folder) and what it covered.</summary>
/// <param name="Sha256">For a file, the SHA-256 of its bytes; for a folder, see <see cref="ExternalInputHasher"/>.</param>
/// <param name="Source">Where a Hub input came from (<c>hf://org/name@commit</c>); null for a local path.</param>
public sealed record InputDigest(string Path, bool IsFolder, string Sha256, int FileCount, long Bytes, string? Source = null);

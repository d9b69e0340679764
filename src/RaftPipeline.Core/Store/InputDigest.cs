namespace RaftPipeline.Core.Store;

/// <summary>The content hash of one external input (a file or a folder) and what it covered.</summary>
/// <param name="Sha256">For a file, the SHA-256 of its bytes; for a folder, see <see cref="ExternalInputHasher"/>.</param>
public sealed record InputDigest(string Path, bool IsFolder, string Sha256, int FileCount, long Bytes);

namespace RaftPipeline.Core.Store;

/// <summary>One file of an artifact as recorded in its manifest. <see cref="Path"/> is relative, '/'-separated.</summary>
public sealed record ManifestFile(string Path, long Size, string Sha256);

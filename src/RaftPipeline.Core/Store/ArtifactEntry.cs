namespace RaftPipeline.Core.Store;

/// <summary>A published, trusted artifact: <c>objects/&lt;key[0:2]&gt;/&lt;key&gt;/</c> with its manifest and its data folder.</summary>
public sealed record ArtifactEntry(string Key, string EntryDirectory, ArtifactManifest Manifest)
{
    /// <summary>The stage's files; what downstream stages receive as this artifact.</summary>
    public string DataDirectory => Path.Combine(EntryDirectory, ArtifactStore.DataFolderName);

    /// <summary>When a run last published or reused this entry (the entry folder's mtime).</summary>
    public DateTime LastUsedUtc => Directory.GetLastWriteTimeUtc(EntryDirectory);
}

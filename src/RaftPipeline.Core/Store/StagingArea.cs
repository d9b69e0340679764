namespace RaftPipeline.Core.Store;

/// <summary>
/// A private folder under <c>tmp/</c> where one stage writes its artifact before it is published. Nothing
/// here is ever trusted: only the rename in <see cref="ArtifactStore.Publish"/> makes an entry. Disposing
/// an unpublished area deletes it; one left behind by a killed process is removed by <c>cache gc</c>.
/// </summary>
public sealed class StagingArea : IDisposable
{
    internal StagingArea(string key, string directory)
    {
        Key = key;
        Directory = directory;
        System.IO.Directory.CreateDirectory(DataDirectory);
    }

    public string Key { get; }
    public string Directory { get; }
    public string DataDirectory => Path.Combine(Directory, ArtifactStore.DataFolderName);
    public bool Published { get; internal set; }

    public void Dispose()
    {
        if (!Published && System.IO.Directory.Exists(Directory)) ArtifactStore.DeleteTree(Directory);
    }
}

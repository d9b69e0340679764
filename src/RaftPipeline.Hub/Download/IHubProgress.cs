namespace RaftPipeline.Hub.Download;

/// <summary>Where a transfer stands: <paramref name="Done"/> of <paramref name="Total"/> bytes of one file.</summary>
public sealed record HubTransfer(string RepoId, string File, long Done, long Total, bool Finished);

/// <summary>What the client tells its user while it works (the CLI draws a bar; a stage logs lines).</summary>
public interface IHubProgress
{
    /// <summary>A one-line notice (which commit, a fallback to the cache, a resumed download).</summary>
    void Note(string message);

    /// <summary>Bytes moved; called often while a file streams, then once with Finished.</summary>
    void Transfer(HubTransfer transfer);
}

/// <summary>Tells nobody.</summary>
public sealed class SilentHubProgress : IHubProgress
{
    public static readonly SilentHubProgress Instance = new();
    public void Note(string message) { }
    public void Transfer(HubTransfer transfer) { }
}

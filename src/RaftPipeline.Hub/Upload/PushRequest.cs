namespace RaftPipeline.Hub.Upload;

/// <summary>What to push: every file under <paramref name="Folder"/> to <paramref name="RepoId"/> at <paramref name="Revision"/>, as one commit.</summary>
/// <param name="Private">Create the repository private when it does not exist yet (an existing one is left as it is).</param>
/// <param name="Files">The paths (relative, '/' separators) to push; null: every file under the folder.</param>
public sealed record PushRequest(string RepoId, string Folder, string CommitMessage, string Revision = "main", bool Private = false,
    string? CommitDescription = null, IReadOnlyList<string>? Files = null);

/// <summary>One file of a push: its path in the repository, size and SHA-256.</summary>
public sealed record PushedFile(string Path, long Size, string Sha256, bool Lfs);

/// <summary>The commit the Hub made: its sha and its web address, and what it holds.</summary>
public sealed record PushResult(string RepoId, string CommitOid, string CommitUrl, IReadOnlyList<PushedFile> Files, int Uploaded)
{
    public int LfsFiles => Files.Count(f => f.Lfs);

    /// <summary>
    /// The files a model push takes from a folder, as save_pretrained and peft's push_to_hub leave them: the model and
    /// tokenizer files (<see cref="ModelFiles"/>) and README.md, the model card; not metrics, logs or sub-folders.
    /// </summary>
    public static IReadOnlyList<string> ModelFolderFiles(string folder) =>
        Directory.EnumerateFiles(folder).Select(f => System.IO.Path.GetFileName(f))
            .Where(name => ModelFiles.IsNeeded(name) || name == "README.md")
            .Order(StringComparer.Ordinal).ToList();
}

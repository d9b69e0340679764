namespace RaftPipeline.Hub.Upload;

/// <summary>What to push: every file under <paramref name="Folder"/> to <paramref name="RepoId"/> at <paramref name="Revision"/>, as one commit.</summary>
/// <param name="Private">Create the repository private when it does not exist yet (an existing one is left as it is).</param>
public sealed record PushRequest(string RepoId, string Folder, string CommitMessage, string Revision = "main", bool Private = false, string? CommitDescription = null);

/// <summary>The commit the Hub made: its sha and its web address.</summary>
public sealed record PushResult(string RepoId, string CommitOid, string CommitUrl, int Files, int LfsFiles, int Uploaded);

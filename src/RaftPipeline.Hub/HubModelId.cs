using System.Diagnostics.CodeAnalysis;
using System.Text.RegularExpressions;

namespace RaftPipeline.Hub;

/// <summary>
/// A model repository on the Hugging Face Hub and the revision to use: <c>org/name</c> (revision <c>main</c>) or
/// <c>org/name@revision</c>, where the revision is a branch, a tag, <c>refs/pr/N</c> or a commit sha. A one-part
/// id (<c>gpt2</c>) is not accepted: without the owner it cannot be told from a relative folder name.
/// </summary>
public sealed partial record HubModelId(string RepoId, string Revision)
{
    public const string DefaultRevision = "main";

    public string Owner => RepoId[..RepoId.IndexOf('/')];
    public string Name => RepoId[(RepoId.IndexOf('/') + 1)..];

    /// <summary>True when the revision is a full commit sha, which needs no lookup in <c>refs/</c>.</summary>
    public bool RevisionIsCommit => IsCommitSha(Revision);

    public static bool IsCommitSha(string text) => CommitPattern().IsMatch(text);

    /// <summary>Parses <c>org/name</c> or <c>org/name@rev</c>; false for anything else (paths included).</summary>
    public static bool TryParse(string? text, [NotNullWhen(true)] out HubModelId? id)
    {
        id = null;
        if (string.IsNullOrEmpty(text)) return false;
        var at = text.IndexOf('@');
        var repo = at < 0 ? text : text[..at];
        var revision = at < 0 ? DefaultRevision : text[(at + 1)..];
        if (!RepoPattern().IsMatch(repo) || repo.Contains("--") || repo.Contains("..")) return false;
        if (revision.Length == 0 || revision.Any(char.IsWhiteSpace) || revision.Contains('@') || revision.Contains("..")
            || revision.StartsWith('/') || revision.EndsWith('/'))
            return false;
        id = new HubModelId(repo, revision);
        return true;
    }

    public static HubModelId Parse(string text) =>
        TryParse(text, out var id) ? id : throw new FormatException($"'{text}' is not a Hugging Face model id (expected org/name or org/name@revision)");

    /// <summary>The repository as <c>org/name</c>, with <c>@revision</c> unless it is the default.</summary>
    public override string ToString() => Revision == DefaultRevision ? RepoId : $"{RepoId}@{Revision}";

    // huggingface_hub's REPO_ID_REGEX: word characters, '-' and '.', at most 96 per part, not starting or ending
    // with '-' or '.'; "--" and ".." are refused separately (they would break the cache folder name).
    [GeneratedRegex(@"^[A-Za-z0-9](?:[\w.-]{0,94}[A-Za-z0-9_])?/[A-Za-z0-9_](?:[\w.-]{0,94}[A-Za-z0-9_])?$")]
    private static partial Regex RepoPattern();

    [GeneratedRegex("^[0-9a-f]{40}$")]
    private static partial Regex CommitPattern();
}

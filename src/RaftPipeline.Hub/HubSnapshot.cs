using System.Security.Cryptography;
using System.Text;
using RaftPipeline.Hub.Cache;

namespace RaftPipeline.Hub;

/// <summary>
/// A model resolved to one commit: the snapshot folder in the cache (present once downloaded) and the files a model
/// needs with their etags.
/// </summary>
public sealed record HubSnapshot(HubModelId Id, string Commit, string Folder, IReadOnlyList<HubFile> Files)
{
    /// <summary>
    /// The content identity of this input, for stage keys: the SHA-256 of the UTF-8 text
    /// <c>"hf-commit {commit}\n"</c> followed by one line <c>"{etag}  {path}\n"</c> per file in ordinal path order.
    /// A new upstream commit changes it; the etags are content hashes the Hub gives, so it needs no download to
    /// compute and no rehashing of gigabytes on every run.
    /// </summary>
    public string ContentKey
    {
        get
        {
            var text = new StringBuilder($"hf-commit {Commit}\n");
            foreach (var file in Files.OrderBy(f => f.Path, StringComparer.Ordinal))
                text.Append(file.Etag).Append("  ").Append(file.Path).Append('\n');
            return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
        }
    }

    public long Bytes => Files.Sum(f => f.Size);

    /// <summary><c>hf://org/name@commit</c>: where the content came from, as run records show it.</summary>
    public string Source => $"hf://{Id.RepoId}@{Commit}";
}

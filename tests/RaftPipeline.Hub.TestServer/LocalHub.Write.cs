using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace RaftPipeline.Hub.TestServer;

/// <summary>One commit the server received through <c>/api/models/{id}/commit/{rev}</c>.</summary>
public sealed record ReceivedCommit(string RepoId, string Revision, string Summary, string Commit, IReadOnlyDictionary<string, byte[]> Files,
    IReadOnlyList<string> LfsPaths);

/// <summary>
/// The write side: repository creation, preupload, the LFS batch API (basic PUT, or multipart when
/// <see cref="MultipartChunkSize"/> is set, and verify), and NDJSON commits, which become commits the read side serves.
/// Writes need <see cref="WriteToken"/>.
/// </summary>
public sealed partial class LocalHub
{
    readonly ConcurrentDictionary<string, byte[]> lfsStore = new(StringComparer.Ordinal);
    readonly ConcurrentDictionary<string, byte[][]> partUploads = new(StringComparer.Ordinal);

    public string WriteToken { get; set; } = "hf_write";
    public int MultipartChunkSize { get; set; }
    public ConcurrentQueue<string> CreatedRepos { get; } = new();
    public ConcurrentQueue<ReceivedCommit> Commits { get; } = new();
    public ConcurrentQueue<string> VerifiedOids { get; } = new();
    /// <summary>The sha256 of every object stored through the LFS upload paths.</summary>
    public IReadOnlyDictionary<string, byte[]> LfsObjects => lfsStore;

    partial void HandleWrite(HttpContext context, string[] parts, ref Task? handled)
    {
        var method = context.Request.Method;
        if (method == "POST" && parts is ["api", "repos", "create"]) handled = CreateRepoAsync(context);
        else if (method == "POST" && parts.Length == 6 && parts[0] == "api" && parts[1] == "models" && parts[4] == "preupload")
            handled = PreuploadAsync(context, $"{parts[2]}/{parts[3]}");
        else if (method == "POST" && parts.Length == 6 && parts[0] == "api" && parts[1] == "models" && parts[4] == "commit")
            handled = CommitAsync(context, $"{parts[2]}/{parts[3]}", Uri.UnescapeDataString(parts[5]));
        else if (method == "POST" && parts.Length == 6 && parts[1].EndsWith(".git") && parts[2..] is ["info", "lfs", "objects", "batch"])
            handled = BatchAsync(context, $"{parts[0]}/{parts[1][..^4]}");
        else if (method == "POST" && parts.Length == 6 && parts[1].EndsWith(".git") && parts[2..] is ["info", "lfs", "objects", "verify"])
            handled = VerifyAsync(context);
        else if (parts is ["lfs-upload", var oid] && method == "PUT") handled = PutObjectAsync(context, oid);
        else if (parts is ["lfs-upload", var partOid, "part", var n] && method == "PUT") handled = PutPartAsync(context, partOid, int.Parse(n));
        else if (parts is ["lfs-upload", var completeOid] && method == "POST") handled = CompleteAsync(context, completeOid);
    }

    bool Authorized(HttpContext context)
    {
        if (context.Request.Headers.Authorization.FirstOrDefault() == $"Bearer {WriteToken}") return true;
        Error(context, 401, null, "Invalid credentials in Authorization header");
        return false;
    }

    async Task CreateRepoAsync(HttpContext context)
    {
        if (!Authorized(context)) return;
        var body = (await JsonNode.ParseAsync(context.Request.Body))!;
        var repoId = $"{body["organization"]!.GetValue<string>()}/{body["name"]!.GetValue<string>()}";
        if (repos.ContainsKey(repoId))
        {
            Error(context, 409, null, "You already created this model repo");
            return;
        }
        repos[repoId] = new Repo();
        CreatedRepos.Enqueue(repoId);
        await Json(context, new JsonObject { ["url"] = $"{Endpoint}/{repoId}", ["name"] = repoId });
    }

    async Task PreuploadAsync(HttpContext context, string repoId)
    {
        if (!Authorized(context)) return;
        if (!repos.ContainsKey(repoId))
        {
            Error(context, 404, "RepoNotFound", "Repository not found");
            return;
        }
        var body = (await JsonNode.ParseAsync(context.Request.Body))!;
        var answer = new JsonArray();
        foreach (var file in body["files"]!.AsArray())
        {
            var path = file!["path"]!.GetValue<string>();
            var size = file["size"]!.GetValue<long>();
            Convert.FromBase64String(file["sample"]!.GetValue<string>()); // must be base64
            var lfs = path.EndsWith(".safetensors", StringComparison.Ordinal) || size >= 1 << 20;
            answer.Add(new JsonObject { ["path"] = path, ["uploadMode"] = lfs ? "lfs" : "regular", ["shouldIgnore"] = false });
        }
        await Json(context, new JsonObject { ["files"] = answer, ["commitOid"] = null });
    }

    async Task BatchAsync(HttpContext context, string repoId)
    {
        if (!Authorized(context)) return;
        var body = (await JsonNode.ParseAsync(context.Request.Body))!;
        var objects = new JsonArray();
        foreach (var o in body["objects"]!.AsArray())
        {
            var oid = o!["oid"]!.GetValue<string>();
            var size = o["size"]!.GetValue<long>();
            var item = new JsonObject { ["oid"] = oid, ["size"] = size };
            if (!lfsStore.ContainsKey(oid) && !blobs.ContainsKey(oid))
            {
                var header = new JsonObject();
                if (MultipartChunkSize > 0)
                {
                    header["chunk_size"] = MultipartChunkSize.ToString();
                    var count = (int)((size + MultipartChunkSize - 1) / MultipartChunkSize);
                    for (var n = 1; n <= count; n++) header[n.ToString("D5")] = $"{Endpoint}/lfs-upload/{oid}/part/{n}";
                    partUploads[oid] = new byte[count][];
                }
                item["actions"] = new JsonObject
                {
                    ["upload"] = new JsonObject { ["href"] = $"{Endpoint}/lfs-upload/{oid}", ["header"] = header },
                    ["verify"] = new JsonObject { ["href"] = $"{Endpoint}/{repoId}.git/info/lfs/objects/verify" },
                };
            }
            objects.Add(item);
        }
        context.Response.ContentType = "application/vnd.git-lfs+json";
        await context.Response.WriteAsync(new JsonObject { ["transfer"] = MultipartChunkSize > 0 ? "multipart" : "basic", ["objects"] = objects }.ToJsonString());
    }

    async Task PutObjectAsync(HttpContext context, string oid)
    {
        var bytes = await ReadAllAsync(context);
        if (Sha256(bytes) != oid)
        {
            context.Response.StatusCode = 400;
            return;
        }
        lfsStore[oid] = bytes;
    }

    async Task PutPartAsync(HttpContext context, string oid, int part)
    {
        partUploads[oid][part - 1] = await ReadAllAsync(context);
        context.Response.Headers.ETag = $"\"part-{part}-{Sha256(partUploads[oid][part - 1])[..8]}\"";
    }

    async Task CompleteAsync(HttpContext context, string oid)
    {
        var body = (await JsonNode.ParseAsync(context.Request.Body))!;
        var parts = partUploads[oid];
        var listed = body["parts"]!.AsArray().Select(p => (N: p!["partNumber"]!.GetValue<int>(), Etag: p["etag"]!.GetValue<string>())).ToList();
        var expected = parts.Select((bytes, i) => (N: i + 1, Etag: $"\"part-{i + 1}-{Sha256(bytes)[..8]}\"")).ToList();
        var joined = parts.SelectMany(p => p).ToArray();
        if (body["oid"]!.GetValue<string>() != oid || !listed.SequenceEqual(expected) || Sha256(joined) != oid)
        {
            context.Response.StatusCode = 400;
            return;
        }
        lfsStore[oid] = joined;
    }

    async Task VerifyAsync(HttpContext context)
    {
        if (!Authorized(context)) return;
        var body = (await JsonNode.ParseAsync(context.Request.Body))!;
        var oid = body["oid"]!.GetValue<string>();
        if (!lfsStore.TryGetValue(oid, out var bytes) || bytes.Length != body["size"]!.GetValue<long>())
        {
            Error(context, 422, null, "object not found or wrong size");
            return;
        }
        VerifiedOids.Enqueue(oid);
    }

    async Task CommitAsync(HttpContext context, string repoId, string revision)
    {
        if (!Authorized(context)) return;
        if (context.Request.ContentType != "application/x-ndjson" || !repos.TryGetValue(repoId, out var repo))
        {
            Error(context, repos.ContainsKey(repoId) ? 400 : 404, repos.ContainsKey(repoId) ? null : "RepoNotFound", "bad commit request");
            return;
        }
        var text = System.Text.Encoding.UTF8.GetString(await ReadAllAsync(context));
        Dictionary<string, byte[]> files;
        lock (repo)
            files = repo.Refs.TryGetValue(revision, out var parent) ? new(repo.Commits[parent], StringComparer.Ordinal) : new(StringComparer.Ordinal);
        string? summary = null;
        var lfsPaths = new List<string>();
        var received = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var node = JsonNode.Parse(line)!;
            var value = node["value"]!;
            switch (node["key"]!.GetValue<string>())
            {
                case "header":
                    summary = value["summary"]!.GetValue<string>();
                    break;
                case "file":
                    if (value["encoding"]!.GetValue<string>() != "base64") throw new InvalidDataException("encoding");
                    received[value["path"]!.GetValue<string>()] = Convert.FromBase64String(value["content"]!.GetValue<string>());
                    break;
                case "lfsFile":
                    var oid = value["oid"]!.GetValue<string>();
                    if (value["algo"]!.GetValue<string>() != "sha256" || !lfsStore.TryGetValue(oid, out var bytes) || bytes.Length != value["size"]!.GetValue<long>())
                    {
                        Error(context, 422, null, $"LFS object {oid} was not uploaded");
                        return;
                    }
                    received[value["path"]!.GetValue<string>()] = bytes;
                    lfsPaths.Add(value["path"]!.GetValue<string>());
                    break;
                default:
                    Error(context, 400, null, $"unknown key {node["key"]}");
                    return;
            }
        }
        foreach (var (path, bytes) in received) files[path] = bytes;
        var commit = AddCommit(repoId, files, revision);
        Commits.Enqueue(new ReceivedCommit(repoId, revision, summary ?? "", commit, received, lfsPaths));
        await Json(context, new JsonObject { ["commitUrl"] = $"{Endpoint}/{repoId}/commit/{commit}", ["commitOid"] = commit, ["success"] = true });
    }

    static async Task<byte[]> ReadAllAsync(HttpContext context)
    {
        using var memory = new MemoryStream();
        await context.Request.Body.CopyToAsync(memory);
        return memory.ToArray();
    }
}

using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using RaftPipeline.Hub.Download;
using RaftPipeline.Hub.Http;

namespace RaftPipeline.Hub.Upload;

/// <summary>
/// huggingface_hub's upload_folder as one commit (hf_api.create_repo, _commit_api.py, lfs.py):
/// <list type="number">
/// <item><c>POST /api/repos/create</c> <c>{name, organization, private}</c>; 409 means it exists already.</item>
/// <item><c>POST /api/models/{id}/preupload/{rev}</c> with each file's path, size and first 512 bytes (base64): the
/// Hub answers which files go through LFS and which are regular.</item>
/// <item>LFS files: <c>POST {id}.git/info/lfs/objects/batch</c>; each object the Hub lacks gets an upload action (a PUT
/// of the bytes, or with <c>chunk_size</c> one PUT per part and a completion POST), then a verify POST.</item>
/// <item><c>POST /api/models/{id}/commit/{rev}</c> as NDJSON: a header line, then a <c>file</c> line (base64 content) per
/// regular file and an <c>lfsFile</c> line (sha256, size) per LFS file. The answer names the commit.</item>
/// </list>
/// </summary>
public sealed class HubUploader(HubSettings settings, IHubProgress? progress = null, HttpMessageHandler? handler = null)
{
    const string LfsMediaType = "application/vnd.git-lfs+json";
    readonly IHubProgress progress = progress ?? SilentHubProgress.Instance;

    sealed record LocalFile(string Path, string FullPath, long Size, string Sha256, byte[] Sample)
    {
        public bool Lfs { get; set; }
    }

    public PushResult Push(PushRequest request, CancellationToken cancellation = default)
    {
        if (settings.Offline)
            throw new HubException(HubErrorKind.NotCached, $"cannot push to {request.RepoId}: HF_HUB_OFFLINE is set");
        if (settings.Token is null)
            throw new HubException(HubErrorKind.Unauthorized,
                $"pushing to {request.RepoId} needs a token with write access: set HF_TOKEN or log in (`hf auth login` writes $HF_HOME/token)");
        if (!Directory.Exists(request.Folder))
            throw new DirectoryNotFoundException($"folder to push not found: {request.Folder}");
        var paths = request.Files?.Select(p => Path.Combine(request.Folder, p.Replace('/', Path.DirectorySeparatorChar)))
                    ?? Directory.EnumerateFiles(request.Folder, "*", SearchOption.AllDirectories);
        var files = paths.Select(full => Describe(request.Folder, full)).OrderBy(f => f.Path, StringComparer.Ordinal).ToList();
        if (files.Count == 0) throw new HubException(HubErrorKind.Unsupported, $"nothing to push: {request.Folder} is empty");

        using var http = new HttpClient(handler ?? new SocketsHttpHandler { AllowAutoRedirect = false }, disposeHandler: handler is null)
        { Timeout = TimeSpan.FromMinutes(30) };

        CreateRepo(http, request);
        AskUploadModes(http, request, files);
        var lfs = files.Where(f => f.Lfs).ToList();
        var uploaded = lfs.Count == 0 ? 0 : UploadLfs(http, request, lfs, cancellation);
        var (oid, url) = Commit(http, request, files);
        progress.Note($"pushed {files.Count} files ({lfs.Count} through LFS, {uploaded} uploaded) to {request.RepoId}: {url}");
        return new PushResult(request.RepoId, oid, url, files.Select(f => new PushedFile(f.Path, f.Size, f.Sha256, f.Lfs)).ToList(), uploaded);
    }

    static LocalFile Describe(string root, string full)
    {
        using var stream = File.OpenRead(full);
        var sample = new byte[(int)Math.Min(512, stream.Length)];
        stream.ReadExactly(sample);
        stream.Position = 0;
        var sha = Convert.ToHexStringLower(SHA256.HashData(stream));
        return new LocalFile(Path.GetRelativePath(root, full).Replace('\\', '/'), full, stream.Length, sha, sample);
    }

    void CreateRepo(HttpClient http, PushRequest request)
    {
        var id = HubModelId.Parse(request.RepoId);
        var body = new JsonObject { ["name"] = id.Name, ["organization"] = id.Owner, ["private"] = request.Private };
        using var response = Send(http, HttpMethod.Post, $"{settings.Endpoint}/api/repos/create", Json(body), request, auth: true);
        if (response.StatusCode == HttpStatusCode.Conflict) return; // exists already
        Check(response, request);
        progress.Note($"created {(request.Private ? "private " : "")}model repository {request.RepoId}");
    }

    void AskUploadModes(HttpClient http, PushRequest request, List<LocalFile> files)
    {
        foreach (var chunk in files.Chunk(256))
        {
            var list = new JsonArray();
            foreach (var f in chunk) list.Add(new JsonObject { ["path"] = f.Path, ["sample"] = Convert.ToBase64String(f.Sample), ["size"] = f.Size });
            using var response = Send(http, HttpMethod.Post,
                $"{settings.Endpoint}/api/models/{request.RepoId}/preupload/{Uri.EscapeDataString(request.Revision)}", Json(new JsonObject { ["files"] = list }), request, auth: true);
            Check(response, request);
            var answer = ReadJson(response, "preupload");
            var modes = answer["files"]?.AsArray() ?? throw Malformed("preupload", "no files[]");
            foreach (var f in chunk)
            {
                var mode = modes.FirstOrDefault(m => m?["path"]?.GetValue<string>() == f.Path)?["uploadMode"]?.GetValue<string>()
                           ?? throw Malformed("preupload", $"no uploadMode for '{f.Path}'");
                f.Lfs = mode == "lfs";
            }
        }
    }

    int UploadLfs(HttpClient http, PushRequest request, List<LocalFile> lfs, CancellationToken cancellation)
    {
        var objects = new JsonArray();
        foreach (var f in lfs) objects.Add(new JsonObject { ["oid"] = f.Sha256, ["size"] = f.Size });
        var body = new JsonObject
        {
            ["operation"] = "upload", ["transfers"] = new JsonArray("basic", "multipart"), ["objects"] = objects,
            ["hash_algo"] = "sha256", ["ref"] = new JsonObject { ["name"] = request.Revision },
        };
        var content = new StringContent(body.ToJsonString(), Encoding.UTF8);
        content.Headers.ContentType = new MediaTypeHeaderValue(LfsMediaType);
        using var response = Send(http, HttpMethod.Post, $"{settings.Endpoint}/{request.RepoId}.git/info/lfs/objects/batch", content, request, auth: true,
            accept: LfsMediaType);
        Check(response, request);
        var answer = ReadJson(response, "LFS batch");
        var uploaded = 0;
        foreach (var item in answer["objects"]?.AsArray() ?? throw Malformed("LFS batch", "no objects[]"))
        {
            var oid = item?["oid"]?.GetValue<string>();
            var file = lfs.FirstOrDefault(f => f.Sha256 == oid) ?? throw Malformed("LFS batch", $"unknown oid {oid}");
            if (item!["error"] is { } error)
                throw new HubException(HubErrorKind.Network, $"the Hub refused to store '{file.Path}' of {request.RepoId}: {error.ToJsonString()}");
            var actions = item["actions"];
            if (actions?["upload"] is not { } upload) continue; // already stored on the Hub
            var href = upload["href"]?.GetValue<string>() ?? throw Malformed("LFS batch", "an upload action without href");
            if (upload["header"]?["chunk_size"] is { } chunkNode)
                UploadParts(http, request, file, href, upload["header"]!.AsObject(), int.Parse(chunkNode.ToString()), cancellation);
            else
            {
                using var stream = File.OpenRead(file.FullPath);
                using var put = Send(http, HttpMethod.Put, href, new StreamContent(stream), request, auth: false);
                Check(put, request, file.Path);
            }
            progress.Transfer(new HubTransfer(request.RepoId, file.Path, file.Size, file.Size, true));
            if (actions["verify"] is { } verify)
            {
                var verifyBody = new StringContent(new JsonObject { ["oid"] = file.Sha256, ["size"] = file.Size }.ToJsonString(), Encoding.UTF8);
                verifyBody.Headers.ContentType = new MediaTypeHeaderValue(LfsMediaType);
                using var verified = Send(http, HttpMethod.Post, verify["href"]!.GetValue<string>(), verifyBody, request, auth: true);
                Check(verified, request, file.Path);
            }
            uploaded++;
        }
        return uploaded;
    }

    /// <summary>Multipart: the header maps "1", "2", … to part URLs; each PUT's ETag goes into the completion POST.</summary>
    void UploadParts(HttpClient http, PushRequest request, LocalFile file, string completionHref, JsonObject header, int chunkSize, CancellationToken cancellation)
    {
        var parts = header.Where(p => p.Key.All(char.IsAsciiDigit) && p.Key.Length > 0)
            .OrderBy(p => int.Parse(p.Key)).Select(p => p.Value!.GetValue<string>()).ToList();
        var expected = (int)((file.Size + chunkSize - 1) / chunkSize);
        if (parts.Count != expected) throw Malformed("LFS batch", $"{parts.Count} part URLs for '{file.Path}', expected {expected}");
        var etags = new JsonArray();
        using var stream = File.OpenRead(file.FullPath);
        var buffer = new byte[chunkSize];
        for (var i = 0; i < parts.Count; i++)
        {
            var read = stream.ReadAtLeast(buffer, chunkSize, throwOnEndOfStream: false);
            using var put = Send(http, HttpMethod.Put, parts[i], new ByteArrayContent(buffer, 0, read), request, auth: false);
            Check(put, request, file.Path);
            var etag = put.Headers.ETag?.Tag ?? throw Malformed("LFS part upload", $"no ETag for part {i + 1} of '{file.Path}'");
            etags.Add(new JsonObject { ["partNumber"] = i + 1, ["etag"] = etag });
            progress.Transfer(new HubTransfer(request.RepoId, file.Path, stream.Position, file.Size, false));
            cancellation.ThrowIfCancellationRequested();
        }
        var body = new StringContent(new JsonObject { ["oid"] = file.Sha256, ["parts"] = etags }.ToJsonString(), Encoding.UTF8);
        body.Headers.ContentType = new MediaTypeHeaderValue(LfsMediaType);
        using var done = Send(http, HttpMethod.Post, completionHref, body, request, auth: false, accept: LfsMediaType);
        Check(done, request, file.Path);
    }

    (string Oid, string Url) Commit(HttpClient http, PushRequest request, List<LocalFile> files)
    {
        var ndjson = new StringBuilder();
        void Line(string key, JsonObject value) => ndjson.Append(new JsonObject { ["key"] = key, ["value"] = value }.ToJsonString()).Append('\n');
        Line("header", new JsonObject { ["summary"] = request.CommitMessage, ["description"] = request.CommitDescription ?? "" });
        foreach (var f in files)
            if (f.Lfs) Line("lfsFile", new JsonObject { ["path"] = f.Path, ["algo"] = "sha256", ["oid"] = f.Sha256, ["size"] = f.Size });
            else Line("file", new JsonObject { ["content"] = Convert.ToBase64String(File.ReadAllBytes(f.FullPath)), ["path"] = f.Path, ["encoding"] = "base64" });
        var content = new StringContent(ndjson.ToString(), Encoding.UTF8);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/x-ndjson");
        using var response = Send(http, HttpMethod.Post, $"{settings.Endpoint}/api/models/{request.RepoId}/commit/{Uri.EscapeDataString(request.Revision)}", content, request, auth: true);
        Check(response, request);
        var answer = ReadJson(response, "commit");
        return (answer["commitOid"]?.GetValue<string>() ?? throw Malformed("commit", "no commitOid"),
            answer["commitUrl"]?.GetValue<string>() ?? throw Malformed("commit", "no commitUrl"));
    }

    HttpResponseMessage Send(HttpClient http, HttpMethod method, string url, HttpContent? content, PushRequest request, bool auth, string? accept = null)
    {
        using var message = new HttpRequestMessage(method, url) { Content = content };
        message.Headers.UserAgent.ParseAdd($"raftpipeline/{typeof(HubUploader).Assembly.GetName().Version?.ToString(3) ?? "0"}");
        // The token goes to the Hub only, never to a storage URL of another host.
        if (auth && new Uri(url).Authority == new Uri(settings.Endpoint).Authority)
            message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", settings.Token);
        if (accept is not null) message.Headers.Accept.ParseAdd(accept);
        try
        {
            return http.Send(message);
        }
        catch (HttpRequestException e)
        {
            throw new HubException(HubErrorKind.Network, $"cannot reach {new Uri(url).GetLeftPart(UriPartial.Authority)} while pushing to {request.RepoId}: {e.Message}", inner: e);
        }
    }

    void Check(HttpResponseMessage response, PushRequest request, string? file = null)
    {
        if (response.IsSuccessStatusCode) return;
        var status = (int)response.StatusCode;
        if (status is 401 or 403 && !response.Headers.Contains("X-Error-Code"))
            throw new HubException(HubErrorKind.Unauthorized,
                $"the Hub refused the push to {request.RepoId} ({status}{Said(response)}): the token needs write access to '{HubModelId.Parse(request.RepoId).Owner}'", status);
        throw HubErrors.FromResponse(response, request.RepoId, request.Revision, file, hasToken: true);
    }

    static string Said(HttpResponseMessage response) =>
        response.Headers.TryGetValues("X-Error-Message", out var v) ? $", the Hub said: {v.First()}" : "";

    static StringContent Json(JsonNode body) => new(body.ToJsonString(), Encoding.UTF8, "application/json");

    static JsonNode ReadJson(HttpResponseMessage response, string what)
    {
        try
        {
            return JsonNode.Parse(response.Content.ReadAsStream()) ?? throw Malformed(what, "empty answer");
        }
        catch (JsonException e)
        {
            throw new HubException(HubErrorKind.Network, $"the Hub's {what} answer is not JSON: {e.Message}", inner: e);
        }
    }

    static HubException Malformed(string what, string detail) => new(HubErrorKind.Network, $"the Hub's {what} answer is malformed: {detail}");
}

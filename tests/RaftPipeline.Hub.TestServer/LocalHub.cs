using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace RaftPipeline.Hub.TestServer;

/// <summary>One request the server saw.</summary>
public sealed record RecordedRequest(string Method, string Path, string? Range, string? Authorization);

/// <summary>
/// A Hugging Face Hub on 127.0.0.1 (Kestrel, a free port) with the endpoints and headers huggingface_hub relies on:
/// <list type="bullet">
/// <item><c>GET /api/models/{org}/{name}/revision/{rev}</c>: <c>sha</c> and <c>siblings[]</c> (<c>blobId</c>, <c>size</c>,
/// <c>lfs{sha256,size}</c>).</item>
/// <item><c>HEAD|GET /{org}/{name}/resolve/{rev}/{path}</c>: a regular file answers 200 with <c>ETag</c> = git blob
/// sha1; an LFS file answers 302 to the CDN path <c>/cdn/{sha256}</c> (absolute URL) with <c>X-Linked-Etag</c> and
/// <c>X-Linked-Size</c>; both carry <c>X-Repo-Commit</c>.</item>
/// <item><c>GET /cdn/{sha256}</c>: the bytes, honouring <c>Range: bytes=N-</c> with 206.</item>
/// <item>Errors as the Hub sends them: <c>X-Error-Code</c> (RepoNotFound, RevisionNotFound, EntryNotFound,
/// GatedRepo) and <c>X-Error-Message</c>; a renamed repository answers a relative 307.</item>
/// </list>
/// Files are LFS when they end in .safetensors or hold 1 MB or more, as the Hub's default .gitattributes makes them.
/// </summary>
public sealed partial class LocalHub : IAsyncDisposable
{
    readonly WebApplication app;
    readonly ConcurrentDictionary<string, Repo> repos = new(StringComparer.Ordinal);
    readonly ConcurrentDictionary<string, byte[]> blobs = new(StringComparer.Ordinal);
    readonly ConcurrentDictionary<string, string> renamed = new(StringComparer.Ordinal);

    sealed class Repo
    {
        public Dictionary<string, string> Refs { get; } = new(StringComparer.Ordinal);
        public Dictionary<string, Dictionary<string, byte[]>> Commits { get; } = new(StringComparer.Ordinal);
        public string? RequiredToken { get; set; }
        public bool Gated { get; set; }
    }

    LocalHub(WebApplication app) => this.app = app;

    public string Endpoint { get; private set; } = "";
    public ConcurrentQueue<RecordedRequest> Requests { get; } = new();

    /// <summary>When positive, the next CDN download sends this many bytes and then drops the connection.</summary>
    public long CutNextDownloadAfter { get; set; }

    public static async Task<LocalHub> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(o => o.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var hub = new LocalHub(app);
        app.Run(hub.HandleAsync);
        await app.StartAsync();
        hub.Endpoint = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().TrimEnd('/');
        return hub;
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }

    /// <summary>Adds a commit with these files to <paramref name="repoId"/> and points <paramref name="branch"/> at it; returns the commit sha.</summary>
    public string AddCommit(string repoId, IReadOnlyDictionary<string, byte[]> files, string branch = "main")
    {
        var repo = repos.GetOrAdd(repoId, _ => new Repo());
        var listing = new StringBuilder(repoId).Append(repo.Commits.Count);
        foreach (var (path, bytes) in files.OrderBy(f => f.Key, StringComparer.Ordinal))
        {
            listing.Append(path).Append(Sha256(bytes));
            if (IsLfs(path, bytes)) blobs[Sha256(bytes)] = bytes;
        }
        var commit = Convert.ToHexStringLower(SHA1.HashData(Encoding.UTF8.GetBytes(listing.ToString())));
        lock (repo)
        {
            repo.Commits[commit] = new Dictionary<string, byte[]>(files, StringComparer.Ordinal);
            repo.Refs[branch] = commit;
        }
        return commit;
    }

    public void Gate(string repoId) => repos[repoId].Gated = true;
    public void MakePrivate(string repoId, string token) => repos[repoId].RequiredToken = token;
    public void Rename(string oldId, string newId) => renamed[oldId] = newId;

    public static bool IsLfs(string path, byte[] bytes) => path.EndsWith(".safetensors", StringComparison.Ordinal) || bytes.Length >= 1 << 20;
    public static string Sha256(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    /// <summary>git's blob id: sha1 of "blob {size}\0" followed by the bytes.</summary>
    public static string GitBlobId(byte[] bytes) =>
        Convert.ToHexStringLower(SHA1.HashData([.. Encoding.ASCII.GetBytes($"blob {bytes.Length}\0"), .. bytes]));

    public static string Etag(string path, byte[] bytes) => IsLfs(path, bytes) ? Sha256(bytes) : GitBlobId(bytes);

    async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        var rawPath = request.Path.Value ?? "";
        Requests.Enqueue(new RecordedRequest(request.Method, rawPath, request.Headers.Range.FirstOrDefault(), request.Headers.Authorization.FirstOrDefault()));
        var parts = rawPath.Trim('/').Split('/');
        if (parts is ["cdn", var sha] && request.Method == "GET")
        {
            await ServeBlobAsync(context, sha);
            return;
        }
        if (await HandleExtraAsync(context, parts)) return;
        if (parts.Length >= 6 && parts[0] == "api" && parts[1] == "models" && parts[4] == "revision")
        {
            var repoId = $"{parts[2]}/{parts[3]}";
            if (Redirected(context, repoId, $"/api/models/{{0}}/revision/{string.Join('/', parts[5..])}")) return;
            if (Resolve(context, repoId, Uri.UnescapeDataString(string.Join('/', parts[5..]))) is not var (commit, files)) return;
            var siblings = new JsonArray();
            foreach (var (path, bytes) in files.OrderBy(f => f.Key, StringComparer.Ordinal))
            {
                var sibling = new JsonObject { ["rfilename"] = path, ["size"] = bytes.Length, ["blobId"] = GitBlobId(bytes) };
                if (IsLfs(path, bytes)) sibling["lfs"] = new JsonObject { ["sha256"] = Sha256(bytes), ["size"] = bytes.Length, ["pointerSize"] = 134 };
                siblings.Add(sibling);
            }
            await Json(context, new JsonObject { ["id"] = repoId, ["sha"] = commit, ["siblings"] = siblings });
            return;
        }
        if (parts.Length >= 5 && parts[2] == "resolve" && request.Method is "GET" or "HEAD")
        {
            var repoId = $"{parts[0]}/{parts[1]}";
            if (Redirected(context, repoId, $"/{{0}}/resolve/{string.Join('/', parts[3..])}")) return;
            if (Resolve(context, repoId, Uri.UnescapeDataString(parts[3])) is not var (commit, files)) return;
            var file = Uri.UnescapeDataString(string.Join('/', parts[4..]));
            if (!files.TryGetValue(file, out var bytes))
            {
                context.Response.Headers["X-Repo-Commit"] = commit;
                Error(context, 404, "EntryNotFound", $"{file} does not exist on \"{commit}\"");
                return;
            }
            context.Response.Headers["X-Repo-Commit"] = commit;
            if (IsLfs(file, bytes))
            {
                context.Response.Headers["X-Linked-Etag"] = $"\"{Sha256(bytes)}\"";
                context.Response.Headers["X-Linked-Size"] = bytes.Length.ToString();
                context.Response.Headers.ETag = $"\"{GitBlobId(bytes)}\"";
                context.Response.StatusCode = 302;
                context.Response.Headers.Location = $"{Endpoint}/cdn/{Sha256(bytes)}";
                return;
            }
            context.Response.Headers.ETag = $"\"{GitBlobId(bytes)}\"";
            context.Response.ContentLength = bytes.Length;
            if (request.Method == "GET") await context.Response.Body.WriteAsync(bytes);
            return;
        }
        context.Response.StatusCode = 404;
    }

    /// <summary>Extension point for the write side (push); true when handled.</summary>
    partial void HandleWrite(HttpContext context, string[] parts, ref Task? handled);

    async Task<bool> HandleExtraAsync(HttpContext context, string[] parts)
    {
        Task? handled = null;
        HandleWrite(context, parts, ref handled);
        if (handled is null) return false;
        await handled;
        return true;
    }

    bool Redirected(HttpContext context, string repoId, string format)
    {
        if (!renamed.TryGetValue(repoId, out var target)) return false;
        context.Response.StatusCode = 307;
        context.Response.Headers.Location = string.Format(format, target); // relative, as the Hub sends for a renamed repo
        return true;
    }

    (string Commit, Dictionary<string, byte[]> Files)? Resolve(HttpContext context, string repoId, string revision)
    {
        var auth = context.Request.Headers.Authorization.FirstOrDefault();
        if (!repos.TryGetValue(repoId, out var repo) || (repo.RequiredToken is { } token && auth != $"Bearer {token}"))
        {
            if (auth is not null && auth != $"Bearer {repo?.RequiredToken}")
                Error(context, 401, null, "Invalid credentials in Authorization header");
            else
                Error(context, 401, "RepoNotFound", "Repository not found");
            return null;
        }
        if (repo.Gated && auth is null)
        {
            Error(context, 401, "GatedRepo", $"Access to model {repoId} is restricted. You must have access to it and be authenticated to access it. Please log in.");
            return null;
        }
        lock (repo)
        {
            var commit = repo.Refs.TryGetValue(revision, out var c) ? c : repo.Commits.ContainsKey(revision) ? revision : null;
            if (commit is null)
            {
                Error(context, 404, "RevisionNotFound", $"Invalid rev id: {revision}");
                return null;
            }
            return (commit, repo.Commits[commit]);
        }
    }

    async Task ServeBlobAsync(HttpContext context, string sha)
    {
        if (!blobs.TryGetValue(sha, out var bytes))
        {
            context.Response.StatusCode = 404;
            return;
        }
        long start = 0;
        var range = context.Request.Headers.Range.FirstOrDefault();
        if (range is not null && range.StartsWith("bytes=", StringComparison.Ordinal) && range.EndsWith('-')
            && long.TryParse(range["bytes=".Length..^1], out var from) && from < bytes.Length)
        {
            start = from;
            context.Response.StatusCode = 206;
            context.Response.Headers.ContentRange = $"bytes {start}-{bytes.Length - 1}/{bytes.Length}";
        }
        context.Response.ContentLength = bytes.Length - start;
        var cut = CutNextDownloadAfter;
        if (cut > 0 && cut < bytes.Length - start)
        {
            CutNextDownloadAfter = 0;
            await context.Response.Body.WriteAsync(bytes.AsMemory((int)start, (int)cut));
            await context.Response.Body.FlushAsync();
            await Task.Delay(100); // let the bytes reach the client before the connection drops
            context.Abort(); // the connection drops mid-body
            return;
        }
        await context.Response.Body.WriteAsync(bytes.AsMemory((int)start));
    }

    static void Error(HttpContext context, int status, string? code, string message)
    {
        context.Response.StatusCode = status;
        if (code is not null) context.Response.Headers["X-Error-Code"] = code;
        context.Response.Headers["X-Error-Message"] = message;
    }

    static async Task Json(HttpContext context, JsonNode body)
    {
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(body.ToJsonString(new JsonSerializerOptions { WriteIndented = false }));
    }
}

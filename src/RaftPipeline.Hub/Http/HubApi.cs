using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

namespace RaftPipeline.Hub.Http;

/// <summary>
/// The read side of the Hub's HTTP API that model downloads use: the revision endpoint and file metadata. Redirects
/// are followed by hand, as huggingface_hub does: a relative one (a renamed repository) on the same host, an
/// absolute one (a CDN) only when fetching bytes, and without the Authorization header when the host changes.
/// </summary>
public sealed class HubApi : IDisposable
{
    readonly HttpClient http;
    readonly HubSettings settings;

    public HubApi(HubSettings settings, HttpMessageHandler? handler = null)
    {
        this.settings = settings;
        http = new HttpClient(handler ?? new SocketsHttpHandler { AllowAutoRedirect = false, AutomaticDecompression = DecompressionMethods.None },
            disposeHandler: handler is null)
        { Timeout = Timeout.InfiniteTimeSpan };
    }

    public HubSettings Settings => settings;

    public void Dispose() => http.Dispose();

    public Uri ApiUri(string path) => new($"{settings.Endpoint}/api/{path}");

    /// <summary>{endpoint}/{org/name}/resolve/{rev}/{path}: the revision escaped whole, '/' kept in the path.</summary>
    public Uri ResolveUri(string repoId, string revision, string file) =>
        new($"{settings.Endpoint}/{repoId}/resolve/{Uri.EscapeDataString(revision)}/{string.Join('/', file.Split('/').Select(Uri.EscapeDataString))}");

    /// <summary><c>GET /api/models/{id}/revision/{rev}?blobs=true</c>.</summary>
    public RevisionInfo GetRevision(string repoId, string revision, CancellationToken cancellation = default)
    {
        var uri = ApiUri($"models/{repoId}/revision/{Uri.EscapeDataString(revision)}?blobs=true");
        using var response = Send(HttpMethod.Get, uri, null, repoId, revision, null, settings.MetadataTimeout, followAbsolute: false, cancellation);
        using var body = response.Content.ReadAsStream(cancellation);
        JsonDocument json;
        try
        {
            json = JsonDocument.Parse(body);
        }
        catch (JsonException e)
        {
            throw new HubException(HubErrorKind.Network, $"the Hub's answer for {repoId}@{revision} is not JSON ({uri}): {e.Message}", inner: e);
        }
        using (json)
        {
            var root = json.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("sha", out var sha) || sha.GetString() is not { } commit
                || !HubModelId.IsCommitSha(commit))
                throw new HubException(HubErrorKind.Network, $"the Hub's answer for {repoId}@{revision} has no commit sha ({uri})");
            var siblings = new List<RepoSibling>();
            if (root.TryGetProperty("siblings", out var list) && list.ValueKind == JsonValueKind.Array)
                foreach (var s in list.EnumerateArray())
                {
                    if (!s.TryGetProperty("rfilename", out var name) || name.GetString() is not { } path) continue;
                    string? etag = null;
                    long? size = s.TryGetProperty("size", out var sz) && sz.ValueKind == JsonValueKind.Number ? sz.GetInt64() : null;
                    if (s.TryGetProperty("lfs", out var lfs) && lfs.ValueKind == JsonValueKind.Object)
                    {
                        etag = lfs.TryGetProperty("sha256", out var sha256) ? sha256.GetString() : null;
                        if (lfs.TryGetProperty("size", out var lfsSize) && lfsSize.ValueKind == JsonValueKind.Number) size = lfsSize.GetInt64();
                    }
                    else if (s.TryGetProperty("blobId", out var blob))
                        etag = blob.GetString();
                    siblings.Add(new RepoSibling(path, etag, size));
                }
            return new RevisionInfo(commit, siblings);
        }
    }

    /// <summary><c>HEAD</c> of a file's resolve URL (huggingface_hub's get_hf_file_metadata).</summary>
    public FileMetadata Head(string repoId, string revision, string file, CancellationToken cancellation = default)
    {
        var uri = ResolveUri(repoId, revision, file);
        using var response = Send(HttpMethod.Head, uri, null, repoId, revision, file, settings.MetadataTimeout, followAbsolute: false, cancellation);
        string? Get(string name) =>
            response.Headers.TryGetValues(name, out var v) ? v.FirstOrDefault()
            : response.Content.Headers.TryGetValues(name, out var c) ? c.FirstOrDefault() : null;
        var commit = Get("X-Repo-Commit");
        var etag = (Get("X-Linked-Etag") ?? response.Headers.ETag?.ToString())?.Replace("W/", "").Trim('"');
        var redirected = HubErrors.IsRedirect(response.StatusCode);
        var sizeText = Get("X-Linked-Size") ?? (redirected ? null : response.Content.Headers.ContentLength?.ToString());
        if (commit is null || etag is null || !long.TryParse(sizeText, out var size))
            throw new HubException(HubErrorKind.Network,
                $"the Hub's metadata for '{file}' of {repoId}@{revision} lacks {(commit is null ? "X-Repo-Commit" : etag is null ? "an ETag" : "the size")} ({uri})");
        var location = redirected && response.Headers.Location is { } l ? (l.IsAbsoluteUri ? l : new Uri(response.RequestMessage!.RequestUri!, l)) : response.RequestMessage!.RequestUri!;
        return new FileMetadata(commit, etag, size, location);
    }

    /// <summary>
    /// Sends a request, following relative redirects always and absolute ones when <paramref name="followAbsolute"/>;
    /// a non-success answer becomes a <see cref="HubException"/>. The caller disposes the response.
    /// </summary>
    internal HttpResponseMessage Send(HttpMethod method, Uri uri, RangeHeaderValue? range, string repoId, string revision, string? file,
        TimeSpan timeout, bool followAbsolute, CancellationToken cancellation, HttpCompletionOption completion = HttpCompletionOption.ResponseContentRead)
    {
        var origin = new Uri(settings.Endpoint);
        for (var hop = 0; ; hop++)
        {
            using var request = new HttpRequestMessage(method, uri);
            request.Headers.UserAgent.ParseAdd($"raftpipeline/{typeof(HubApi).Assembly.GetName().Version?.ToString(3) ?? "0"}");
            request.Headers.AcceptEncoding.ParseAdd("identity");
            if (settings.Token is not null && uri.Authority == origin.Authority)
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", settings.Token);
            if (range is not null) request.Headers.Range = range;
            HttpResponseMessage response;
            using var timer = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
            timer.CancelAfter(timeout);
            try
            {
                response = http.Send(request, completion, timer.Token);
            }
            catch (OperationCanceledException e) when (!cancellation.IsCancellationRequested)
            {
                throw new HubException(HubErrorKind.Network, $"no answer from {uri.GetLeftPart(UriPartial.Authority)} within {timeout.TotalSeconds:0.#} s ({method} {uri})", inner: e);
            }
            catch (HttpRequestException e)
            {
                throw new HubException(HubErrorKind.Network, $"cannot reach {uri.GetLeftPart(UriPartial.Authority)}: {e.Message} (HF_ENDPOINT={settings.Endpoint})", inner: e);
            }
            if (HubErrors.IsRedirect(response.StatusCode) && response.Headers.Location is { } location && hop < 10)
            {
                if (!location.IsAbsoluteUri || followAbsolute)
                {
                    uri = location.IsAbsoluteUri ? location : new Uri(uri, location);
                    response.Dispose();
                    continue;
                }
                return response; // an absolute redirect of a HEAD: the caller reads Location
            }
            if (response.IsSuccessStatusCode) return response;
            using (response) throw HubErrors.FromResponse(response, repoId, revision, file, settings.Token is not null);
        }
    }
}

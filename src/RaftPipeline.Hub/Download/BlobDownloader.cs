using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using RaftPipeline.Hub.Cache;
using RaftPipeline.Hub.Http;

namespace RaftPipeline.Hub.Download;

/// <summary>
/// Downloads one file of a commit into <c>blobs/{etag}</c>: under the blob's lock, into <c>{etag}.incomplete</c>,
/// resumed with <c>Range: bytes=N-</c> after a dropped connection (in this call, or left by an earlier one), then
/// checked (size, and SHA-256 for an LFS file or the git blob sha1 for a regular one) and moved into place. A file
/// that fails the check is deleted, never kept as a blob.
/// </summary>
public sealed class BlobDownloader(HubApi api, HubCache cache, IHubProgress progress)
{
    /// <summary>Connection drops survived per file before giving up.</summary>
    public int MaxAttempts { get; init; } = 5;

    public void Fetch(HubModelId id, string commit, HubFile file, CancellationToken cancellation = default)
    {
        var blob = cache.BlobPath(id.RepoId, file.Etag);
        using var held = BlobLock.Acquire(cache.LockPath(id.RepoId, file.Etag), progress, cancellation);
        if (File.Exists(blob) && new FileInfo(blob).Length == file.Size) return;

        var meta = api.Head(id.RepoId, commit, file.Path, cancellation);
        if (meta.Etag != file.Etag || meta.Size != file.Size)
            throw new HubException(HubErrorKind.Integrity,
                $"'{file.Path}' of {id.RepoId}@{commit}: the file's metadata (etag {meta.Etag}, {meta.Size} bytes) disagrees with the revision listing (etag {file.Etag}, {file.Size} bytes)");

        Directory.CreateDirectory(Path.GetDirectoryName(blob)!);
        var incomplete = cache.IncompletePath(id.RepoId, file.Etag);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                Stream(id, file, meta.Location, incomplete, cancellation);
                break;
            }
            catch (Exception e) when (attempt < MaxAttempts && IsDropped(e) && !cancellation.IsCancellationRequested)
            {
                progress.Note($"'{file.Path}': connection lost at {new FileInfo(incomplete).Length:N0} of {file.Size:N0} bytes ({e.Message}); resuming");
            }
            catch (Exception e) when (IsDropped(e) && !cancellation.IsCancellationRequested)
            {
                throw new HubException(HubErrorKind.Network,
                    $"downloading '{file.Path}' of {id.RepoId} failed {MaxAttempts} times ({e.Message}); run again to resume from {new FileInfo(incomplete).Length:N0} bytes", inner: e);
            }
        }

        var length = new FileInfo(incomplete).Length;
        if (length != file.Size || !ContentMatches(incomplete, file))
        {
            File.Delete(incomplete);
            throw new HubException(HubErrorKind.Integrity,
                $"'{file.Path}' of {id.RepoId}@{commit} arrived corrupted ({length:N0} bytes, expected {file.Size:N0} with {(file.IsLfs ? "sha256" : "git sha1")} {file.Etag}); it was deleted, run again to download it anew");
        }
        File.Move(incomplete, blob, overwrite: true);
    }

    void Stream(HubModelId id, HubFile file, Uri location, string incomplete, CancellationToken cancellation)
    {
        var have = File.Exists(incomplete) ? new FileInfo(incomplete).Length : 0;
        if (have > file.Size)
        {
            File.Delete(incomplete);
            have = 0;
        }
        if (have > 0 && have == file.Size) return;
        var range = have > 0 ? new RangeHeaderValue(have, null) : null;
        using var response = api.Send(HttpMethod.Get, location, range, id.RepoId, id.Revision, file.Path, api.Settings.MetadataTimeout,
            followAbsolute: true, cancellation, HttpCompletionOption.ResponseHeadersRead);
        if (have > 0 && response.StatusCode != HttpStatusCode.PartialContent)
            have = 0; // the server ignored the Range: start over
        else if (have > 0) progress.Note($"'{file.Path}': resuming at {have:N0} of {file.Size:N0} bytes");

        using var output = new FileStream(incomplete, have > 0 ? FileMode.Append : FileMode.Create, FileAccess.Write, FileShare.None);
        using var input = response.Content.ReadAsStream(cancellation);
        var buffer = new byte[1 << 16];
        var done = have;
        var lastReport = 0L;
        progress.Transfer(new HubTransfer(id.RepoId, file.Path, done, file.Size, false));
        while (true)
        {
            int read;
            using (var timer = CancellationTokenSource.CreateLinkedTokenSource(cancellation))
            {
                timer.CancelAfter(api.Settings.DownloadTimeout);
                try
                {
                    read = input.ReadAsync(buffer, timer.Token).AsTask().GetAwaiter().GetResult();
                }
                catch (OperationCanceledException e) when (!cancellation.IsCancellationRequested)
                {
                    throw new TimeoutException($"no data for {api.Settings.DownloadTimeout.TotalSeconds:0.#} s", e);
                }
            }
            if (read == 0) break;
            output.Write(buffer, 0, read);
            done += read;
            if (done - lastReport >= 1 << 20 || done == file.Size)
            {
                progress.Transfer(new HubTransfer(id.RepoId, file.Path, done, file.Size, false));
                lastReport = done;
            }
        }
        output.Flush();
        if (done < file.Size) throw new IOException($"the stream ended at {done:N0} of {file.Size:N0} bytes");
        progress.Transfer(new HubTransfer(id.RepoId, file.Path, done, file.Size, true));
    }

    static bool IsDropped(Exception e) => e is IOException or HttpRequestException or TimeoutException && e is not HubException;

    /// <summary>An LFS etag is the SHA-256 of the content; a regular file's is git's blob sha1 ("blob {size}\0" + content).</summary>
    public static bool ContentMatches(string path, HubFile file)
    {
        using var stream = File.OpenRead(path);
        if (file.IsLfs) return Convert.ToHexStringLower(SHA256.HashData(stream)) == file.Etag;
        if (file.Etag.Length != 40) return true; // an etag of another form (not a content hash): size only
        using var sha1 = IncrementalHash.CreateHash(HashAlgorithmName.SHA1);
        sha1.AppendData(Encoding.ASCII.GetBytes($"blob {stream.Length}\0"));
        var buffer = new byte[1 << 16];
        int read;
        while ((read = stream.Read(buffer)) > 0) sha1.AppendData(buffer, 0, read);
        return Convert.ToHexStringLower(sha1.GetHashAndReset()) == file.Etag;
    }
}

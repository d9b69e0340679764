using RaftPipeline.Hub.Cache;
using RaftPipeline.Hub.Download;
using RaftPipeline.Hub.Http;

namespace RaftPipeline.Hub;

/// <summary>
/// Resolves a model id to a snapshot folder in the shared Hugging Face cache, downloading what is missing.
/// Online: the revision endpoint names the commit and the files with their etags; files already in the cache
/// (from an earlier run or from Python) are used in place; the rest are downloaded into blobs/ and linked.
/// Offline (HF_HUB_OFFLINE), or when the Hub cannot be reached: refs/ and snapshots/ only, as
/// huggingface_hub's try_to_load_from_cache reads them.
/// </summary>
public sealed class HubModelResolver(HubSettings settings, IHubProgress? progress = null, HttpMessageHandler? handler = null)
{
    readonly IHubProgress progress = progress ?? SilentHubProgress.Instance;

    public HubCache Cache { get; } = new(settings.CacheDirectory);
    public HubSettings Settings => settings;

    /// <param name="download">False: only find out the commit and the files (to compute a key); nothing is written.</param>
    public HubSnapshot Resolve(HubModelId id, bool download = true, CancellationToken cancellation = default)
    {
        if (settings.Offline) return FromCache(id, "HF_HUB_OFFLINE is set");
        using var api = new HubApi(settings, handler);
        RevisionInfo info;
        try
        {
            info = api.GetRevision(id.RepoId, id.Revision, cancellation);
        }
        catch (HubException e) when (e.Kind == HubErrorKind.Network)
        {
            // As huggingface_hub does: an unreachable Hub falls back to what the cache holds, and says so.
            var cached = TryFromCache(id);
            if (cached is null) throw;
            progress.Note($"{e.Message}; using {id} at {cached.Commit[..12]} from the cache");
            return cached;
        }

        var files = new List<HubFile>();
        foreach (var sibling in info.Siblings.Where(s => ModelFiles.IsNeeded(s.Path)))
        {
            if (sibling is { Etag: { } etag, Size: { } size }) files.Add(new HubFile(sibling.Path, etag, size));
            else
            {
                var meta = api.Head(id.RepoId, info.Commit, sibling.Path, cancellation); // a listing without blobs=true details
                files.Add(new HubFile(sibling.Path, meta.Etag, meta.Size));
            }
        }
        if (ModelFiles.Problem(files.Select(f => f.Path).ToList()) is { } problem)
            throw new HubException(HubErrorKind.Unsupported, $"{id} (commit {info.Commit[..12]}) is not a model this tool can load: {problem}");
        var snapshot = new HubSnapshot(id, info.Commit, Cache.SnapshotFolder(id.RepoId, info.Commit), files);
        if (!download) return snapshot;

        var downloader = new BlobDownloader(api, Cache, progress);
        var missing = files.Where(f => !Cache.HasInSnapshot(id.RepoId, info.Commit, f)).ToList();
        if (missing.Count > 0)
            progress.Note($"{id}: commit {info.Commit[..12]}, {missing.Count} of {files.Count} files to fetch ({missing.Sum(f => f.Size):N0} bytes) into {Cache.RepoFolder(id.RepoId)}");
        foreach (var file in missing)
        {
            if (!(File.Exists(Cache.BlobPath(id.RepoId, file.Etag)) && new FileInfo(Cache.BlobPath(id.RepoId, file.Etag)).Length == file.Size))
                downloader.Fetch(id, info.Commit, file, cancellation);
            Cache.Link(id.RepoId, info.Commit, file.Path, file.Etag, copy: settings.DisableSymlinks);
        }
        Cache.WriteRef(id.RepoId, id.Revision, info.Commit);
        return snapshot;
    }

    HubSnapshot FromCache(HubModelId id, string why) =>
        TryFromCache(id) ?? throw new HubException(HubErrorKind.NotCached,
            $"{id} is not in the Hugging Face cache at {Cache.Root} and {why}, so nothing is downloaded; " +
            "run once without HF_HUB_OFFLINE (or download it with `hf download`)");

    /// <summary>The cached snapshot of the revision, when the cache has a complete model for it; null otherwise.</summary>
    HubSnapshot? TryFromCache(HubModelId id)
    {
        var commit = Cache.ResolveCommit(id.RepoId, id.Revision);
        if (commit is null) return null;
        var all = Cache.ReadSnapshot(id.RepoId, commit);
        if (all is null) return null;
        var files = all.Where(f => ModelFiles.IsNeeded(f.Path)).ToList();
        var folder = Cache.SnapshotFolder(id.RepoId, commit);
        if (ModelFiles.Problem(files.Select(f => f.Path).ToList()) is { } problem)
            throw new HubException(HubErrorKind.NotCached, $"{id} is only partly in the Hugging Face cache ({folder}): {problem}");
        var missingShards = ModelFiles.ShardsOfIndex(folder).Where(s => files.All(f => f.Path != s)).ToList();
        if (missingShards.Count > 0)
            throw new HubException(HubErrorKind.NotCached,
                $"{id} is only partly in the Hugging Face cache ({folder}): model.safetensors.index.json names {string.Join(", ", missingShards)}, which {(missingShards.Count == 1 ? "is" : "are")} not there");
        return new HubSnapshot(id, commit, Cache.SnapshotFolder(id.RepoId, commit), files);
    }
}

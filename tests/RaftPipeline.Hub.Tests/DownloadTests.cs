using RaftPipeline.Hub.Cache;
using RaftPipeline.Hub.TestServer;

namespace RaftPipeline.Hub.Tests;

public sealed class DownloadTests : HubTestBase
{
    [Fact]
    public void Download_writes_the_cache_layout_huggingface_hub_reads()
    {
        var files = TinyRepo.Files();
        var commit = Server.AddCommit("tiny-org/tiny-qwen3", files);

        var snapshot = Resolver().Resolve(HubModelId.Parse("tiny-org/tiny-qwen3"));

        var repo = Path.Combine(CacheDir, "models--tiny-org--tiny-qwen3");
        Assert.Equal(commit, snapshot.Commit);
        Assert.Equal(Path.Combine(repo, "snapshots", commit), snapshot.Folder);
        // refs/main holds the sha with no newline, as _cache_commit_hash_for_specific_revision writes it.
        Assert.Equal(commit, File.ReadAllText(Path.Combine(repo, "refs", "main")));
        // Only what a model needs: no README, no .bin, no sub-folder.
        Assert.Equal(TinyRepo.Needed, Directory.EnumerateFileSystemEntries(snapshot.Folder).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Equal(TinyRepo.Needed, snapshot.Files.Select(f => f.Path));
        foreach (var name in TinyRepo.Needed)
        {
            var bytes = files[name];
            var etag = LocalHub.Etag(name, bytes);
            var link = new FileInfo(Path.Combine(snapshot.Folder, name));
            // A relative link into blobs/, named by the etag: sha256 for LFS files, the git blob sha1 otherwise.
            Assert.Equal($"../../blobs/{etag}", link.LinkTarget);
            Assert.Equal(bytes, File.ReadAllBytes(Path.Combine(repo, "blobs", etag)));
            Assert.Equal(bytes, File.ReadAllBytes(link.FullName));
        }
        Assert.Equal(64, snapshot.Files.Single(f => f.Path == "model-00001-of-00002.safetensors").Etag.Length);
        Assert.Equal(40, snapshot.Files.Single(f => f.Path == "config.json").Etag.Length);
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(repo, "blobs"), "*.incomplete"));
        Assert.Equal(TinyRepo.Needed.Length, Directory.EnumerateFiles(Path.Combine(repo, "blobs")).Count());
        Assert.True(File.Exists(Path.Combine(CacheDir, ".locks", "models--tiny-org--tiny-qwen3", LocalHub.Etag("config.json", files["config.json"]) + ".lock")));

        // LFS files went through the redirect to the CDN path; regular files came straight from resolve/.
        var requests = TakeRequests();
        Assert.Contains(requests, r => r is { Method: "GET", Path: var p } && p == $"/cdn/{LocalHub.Sha256(files["model-00001-of-00002.safetensors"])}");
        Assert.Contains(requests, r => r is { Method: "GET" } && r.Path == $"/tiny-org/tiny-qwen3/resolve/{commit}/config.json");
        Assert.DoesNotContain(requests, r => r.Path.Contains("README") || r.Path.Contains(".bin") || r.Path.Contains("original"));
        Assert.Contains(Progress.Transfers, t => t is { File: "model-00001-of-00002.safetensors", Finished: true } && t.Done == files["model-00001-of-00002.safetensors"].Length);
    }

    [Fact]
    public void A_second_resolve_downloads_nothing_and_offline_reads_the_same_snapshot()
    {
        Server.AddCommit("tiny-org/tiny-qwen3", TinyRepo.Files());
        var first = Resolver().Resolve(HubModelId.Parse("tiny-org/tiny-qwen3"));
        TakeRequests();

        var second = Resolver().Resolve(HubModelId.Parse("tiny-org/tiny-qwen3"));
        var requests = TakeRequests();
        Assert.Equal("/api/models/tiny-org/tiny-qwen3/revision/main", Assert.Single(requests).Path);

        var offline = Resolver(offline: true).Resolve(HubModelId.Parse("tiny-org/tiny-qwen3"));
        Assert.Empty(TakeRequests());
        Assert.Equal(first.ContentKey, second.ContentKey);
        Assert.Equal(first.ContentKey, offline.ContentKey);
        Assert.Equal(first.Folder, offline.Folder);
        Assert.Equal(first.Files, offline.Files);
    }

    [Fact]
    public void Identify_only_computes_the_same_key_without_writing_anything()
    {
        Server.AddCommit("tiny-org/tiny-qwen3", TinyRepo.Files());
        var identified = Resolver().Resolve(HubModelId.Parse("tiny-org/tiny-qwen3"), download: false);
        Assert.False(Directory.Exists(CacheDir));
        var downloaded = Resolver().Resolve(HubModelId.Parse("tiny-org/tiny-qwen3"));
        Assert.Equal(identified.ContentKey, downloaded.ContentKey);
    }

    [Fact]
    public void A_new_upstream_commit_changes_the_key_and_moves_the_ref()
    {
        var files = TinyRepo.Files();
        var old = Server.AddCommit("tiny-org/tiny-qwen3", files);
        var before = Resolver().Resolve(HubModelId.Parse("tiny-org/tiny-qwen3"));
        files["generation_config.json"] = """{"eos_token_id": 151645}"""u8.ToArray();
        var @new = Server.AddCommit("tiny-org/tiny-qwen3", files);

        var after = Resolver().Resolve(HubModelId.Parse("tiny-org/tiny-qwen3"));
        Assert.NotEqual(old, @new);
        Assert.Equal(@new, after.Commit);
        Assert.NotEqual(before.ContentKey, after.ContentKey);
        Assert.Equal(@new, File.ReadAllText(Path.Combine(CacheDir, "models--tiny-org--tiny-qwen3", "refs", "main")));
        // The old commit stays usable by sha, offline; shared blobs were not downloaded twice.
        var pinned = Resolver(offline: true).Resolve(HubModelId.Parse($"tiny-org/tiny-qwen3@{old}"));
        Assert.Equal(before.ContentKey, pinned.ContentKey);
        Assert.Single(TakeRequests(), r => r.Path.StartsWith("/cdn/") && r.Path.EndsWith(LocalHub.Sha256(files["model-00001-of-00002.safetensors"])));
    }

    [Fact]
    public void A_download_cut_mid_file_is_resumed_with_a_range_request()
    {
        var files = TinyRepo.Files();
        Server.AddCommit("tiny-org/tiny-qwen3", files);
        Server.CutNextDownloadAfter = 100_000;

        var snapshot = Resolver().Resolve(HubModelId.Parse("tiny-org/tiny-qwen3"));

        var requests = TakeRequests().Where(r => r.Path.StartsWith("/cdn/")).ToList();
        var resumed = Assert.Single(requests, r => r.Range is not null);
        Assert.Equal(requests.First(r => r.Range is null).Path, resumed.Path); // the same file, picked up where it stopped
        // The server sent 100,000 bytes before dropping; what reached the file (some may die in buffers) is where it resumes.
        var note = Assert.Single(Progress.Notes, n => n.Contains("connection lost at "));
        var kept = long.Parse(System.Text.RegularExpressions.Regex.Match(note, @"lost at ([\d,]+) of").Groups[1].Value.Replace(",", ""));
        Assert.InRange(kept, 1, 100_000);
        Assert.Equal($"bytes={kept}-", resumed.Range);
        foreach (var name in TinyRepo.Needed) Assert.Equal(files[name], File.ReadAllBytes(Path.Combine(snapshot.Folder, name)));
    }

    [Fact]
    public void An_incomplete_file_left_by_an_earlier_run_is_resumed()
    {
        var files = TinyRepo.Files();
        Server.AddCommit("tiny-org/tiny-qwen3", files);
        var shard = files["model-00001-of-00002.safetensors"];
        var cache = new HubCache(CacheDir);
        var incomplete = cache.IncompletePath("tiny-org/tiny-qwen3", LocalHub.Sha256(shard));
        Directory.CreateDirectory(Path.GetDirectoryName(incomplete)!);
        File.WriteAllBytes(incomplete, shard[..12345]);

        var snapshot = Resolver().Resolve(HubModelId.Parse("tiny-org/tiny-qwen3"));

        Assert.Contains(TakeRequests(), r => r.Path == $"/cdn/{LocalHub.Sha256(shard)}" && r.Range == "bytes=12345-");
        Assert.Equal(shard, File.ReadAllBytes(Path.Combine(snapshot.Folder, "model-00001-of-00002.safetensors")));
        Assert.False(File.Exists(incomplete));
    }

    [Fact]
    public void A_corrupt_incomplete_file_is_deleted_and_never_becomes_a_blob()
    {
        var files = TinyRepo.Files();
        Server.AddCommit("tiny-org/tiny-qwen3", files);
        var shard = files["model-00002-of-00002.safetensors"];
        var cache = new HubCache(CacheDir);
        var incomplete = cache.IncompletePath("tiny-org/tiny-qwen3", LocalHub.Sha256(shard));
        Directory.CreateDirectory(Path.GetDirectoryName(incomplete)!);
        File.WriteAllBytes(incomplete, new byte[1000]); // zeros where the header should be: the sha256 cannot match

        var e = Assert.Throws<HubException>(() => Resolver().Resolve(HubModelId.Parse("tiny-org/tiny-qwen3")));
        Assert.Equal(HubErrorKind.Integrity, e.Kind);
        Assert.Contains("model-00002-of-00002.safetensors", e.Message);
        Assert.False(File.Exists(incomplete));
        Assert.False(File.Exists(cache.BlobPath("tiny-org/tiny-qwen3", LocalHub.Sha256(shard))));

        // The next run starts that file over and succeeds.
        var snapshot = Resolver().Resolve(HubModelId.Parse("tiny-org/tiny-qwen3"));
        Assert.Equal(shard, File.ReadAllBytes(Path.Combine(snapshot.Folder, "model-00002-of-00002.safetensors")));
    }

    [Fact]
    public void A_renamed_repository_is_followed_through_its_relative_redirect()
    {
        var commit = Server.AddCommit("tiny-org/new-name", TinyRepo.Files());
        Server.Rename("tiny-org/old-name", "tiny-org/new-name");

        var snapshot = Resolver().Resolve(HubModelId.Parse("tiny-org/old-name"));

        Assert.Equal(commit, snapshot.Commit);
        // Cached under the name asked for, as huggingface_hub does.
        Assert.True(File.Exists(Path.Combine(CacheDir, "models--tiny-org--old-name", "snapshots", commit, "config.json")));
        Assert.Contains(TakeRequests(), r => r.Path == "/api/models/tiny-org/new-name/revision/main");
    }

    [Fact]
    public void Without_symlinks_the_snapshot_holds_copies_and_reads_back_the_same_files()
    {
        var files = TinyRepo.Files();
        Server.AddCommit("tiny-org/tiny-qwen3", files);
        var snapshot = new HubModelResolver(Settings() with { DisableSymlinks = true }).Resolve(HubModelId.Parse("tiny-org/tiny-qwen3"));
        var config = new FileInfo(Path.Combine(snapshot.Folder, "config.json"));
        Assert.Null(config.LinkTarget);
        Assert.Equal(files["config.json"], File.ReadAllBytes(config.FullName));
    }
}

namespace RaftPipeline.Hub.Tests;

public sealed class ErrorTests : HubTestBase
{
    [Fact]
    public void An_unknown_repository_says_not_found_with_the_hubs_message()
    {
        var e = Assert.Throws<HubException>(() => Resolver().Resolve(HubModelId.Parse("nobody/nothing")));
        Assert.Equal(HubErrorKind.RepoNotFound, e.Kind);
        Assert.Equal(401, e.StatusCode); // the Hub's answer to an anonymous request for a missing or private repo
        Assert.Contains("model repository nobody/nothing not found on the Hub", e.Message);
        Assert.Contains("set HF_TOKEN", e.Message);
        Assert.Contains("(the Hub said: Repository not found)", e.Message);
        Assert.False(Directory.Exists(CacheDir));
    }

    [Fact]
    public void An_unknown_revision_says_which()
    {
        Server.AddCommit("tiny-org/tiny-qwen3", TinyRepo.Files());
        var e = Assert.Throws<HubException>(() => Resolver().Resolve(HubModelId.Parse("tiny-org/tiny-qwen3@v9")));
        Assert.Equal(HubErrorKind.RevisionNotFound, e.Kind);
        Assert.Equal(404, e.StatusCode);
        Assert.Equal("revision 'v9' not found in model repository tiny-org/tiny-qwen3 (the Hub said: Invalid rev id: v9)", e.Message);
    }

    [Fact]
    public void A_gated_repository_says_to_accept_its_conditions_and_log_in()
    {
        Server.AddCommit("meta-llama/Llama-Gated", TinyRepo.Files());
        Server.Gate("meta-llama/Llama-Gated");
        var e = Assert.Throws<HubException>(() => Resolver().Resolve(HubModelId.Parse("meta-llama/Llama-Gated")));
        Assert.Equal(HubErrorKind.GatedRepo, e.Kind);
        Assert.StartsWith("model meta-llama/Llama-Gated is gated: accept its conditions", e.Message);
        Assert.Contains("Access to model meta-llama/Llama-Gated is restricted", e.Message);

        // With a token (an account that accepted), the same repository downloads, and the token was sent.
        var snapshot = Resolver(token: "hf_accepted").Resolve(HubModelId.Parse("meta-llama/Llama-Gated"));
        Assert.Equal(TinyRepo.Needed.Length, snapshot.Files.Count);
        Assert.Contains(TakeRequests(), r => r.Path.EndsWith("/revision/main") && r.Authorization == "Bearer hf_accepted");
    }

    [Fact]
    public void A_private_repository_needs_its_token_and_a_wrong_token_is_named()
    {
        Server.AddCommit("me/private", TinyRepo.Files());
        Server.MakePrivate("me/private", "hf_right");
        var wrong = Assert.Throws<HubException>(() => Resolver(token: "hf_wrong").Resolve(HubModelId.Parse("me/private")));
        Assert.Equal(HubErrorKind.Unauthorized, wrong.Kind);
        Assert.Contains("Invalid credentials in Authorization header", wrong.Message);

        Assert.Equal(HubErrorKind.RepoNotFound, Assert.Throws<HubException>(() => Resolver().Resolve(HubModelId.Parse("me/private"))).Kind);
        Assert.Equal(TinyRepo.Needed.Length, Resolver(token: "hf_right").Resolve(HubModelId.Parse("me/private")).Files.Count);
    }

    [Fact]
    public void Offline_without_the_model_in_the_cache_says_so_and_sends_nothing()
    {
        Server.AddCommit("tiny-org/tiny-qwen3", TinyRepo.Files());
        var e = Assert.Throws<HubException>(() => Resolver(offline: true).Resolve(HubModelId.Parse("tiny-org/tiny-qwen3")));
        Assert.Equal(HubErrorKind.NotCached, e.Kind);
        Assert.Contains($"tiny-org/tiny-qwen3 is not in the Hugging Face cache at {CacheDir} and HF_HUB_OFFLINE is set", e.Message);
        Assert.Empty(TakeRequests());
    }

    [Fact]
    public void An_unreachable_hub_falls_back_to_the_cache_and_says_so()
    {
        Server.AddCommit("tiny-org/tiny-qwen3", TinyRepo.Files());
        var cached = Resolver().Resolve(HubModelId.Parse("tiny-org/tiny-qwen3"));
        var unreachable = new HubModelResolver(Settings() with { Endpoint = "http://127.0.0.1:9" }, Progress); // discard port: refused
        var snapshot = unreachable.Resolve(HubModelId.Parse("tiny-org/tiny-qwen3"));
        Assert.Equal(cached.ContentKey, snapshot.ContentKey);
        Assert.Contains(Progress.Notes, n => n.StartsWith("cannot reach http://127.0.0.1:9") && n.Contains("from the cache"));

        var missing = Assert.Throws<HubException>(() => unreachable.Resolve(HubModelId.Parse("other/model")));
        Assert.Equal(HubErrorKind.Network, missing.Kind);
    }

    [Fact]
    public void A_repository_without_safetensors_is_refused_before_any_download()
    {
        Server.AddCommit("old/bin-only", new Dictionary<string, byte[]>
        {
            ["config.json"] = "{}"u8.ToArray(),
            ["pytorch_model.bin"] = new byte[100],
        });
        var e = Assert.Throws<HubException>(() => Resolver().Resolve(HubModelId.Parse("old/bin-only")));
        Assert.Equal(HubErrorKind.Unsupported, e.Kind);
        Assert.Contains("has no model*.safetensors (this tool reads safetensors weights only)", e.Message);
        Assert.DoesNotContain(TakeRequests(), r => r.Path.Contains("/resolve/"));
    }
}

public sealed class PartialCacheTests : HubTestBase
{
    [Fact]
    public void Offline_a_snapshot_missing_a_shard_its_index_names_is_reported_not_used()
    {
        var files = TinyRepo.Files();
        Server.AddCommit("tiny-org/tiny-qwen3", files);
        var snapshot = Resolver().Resolve(HubModelId.Parse("tiny-org/tiny-qwen3"));
        File.Delete(Path.Combine(snapshot.Folder, "model-00002-of-00002.safetensors")); // as if Python was stopped mid-download

        var e = Assert.Throws<HubException>(() => Resolver(offline: true).Resolve(HubModelId.Parse("tiny-org/tiny-qwen3")));
        Assert.Equal(HubErrorKind.NotCached, e.Kind);
        Assert.EndsWith("model.safetensors.index.json names model-00002-of-00002.safetensors, which is not there", e.Message);

        // Online, the missing link is restored from the blob still in the cache: nothing is downloaded again.
        TakeRequests();
        Resolver().Resolve(HubModelId.Parse("tiny-org/tiny-qwen3"));
        Assert.DoesNotContain(TakeRequests(), r => r.Path.StartsWith("/cdn/"));
        Assert.Equal(files["model-00002-of-00002.safetensors"], File.ReadAllBytes(Path.Combine(snapshot.Folder, "model-00002-of-00002.safetensors")));
    }
}

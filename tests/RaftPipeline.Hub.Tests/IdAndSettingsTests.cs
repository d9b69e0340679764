namespace RaftPipeline.Hub.Tests;

public sealed class IdAndSettingsTests
{
    [Theory]
    [InlineData("Qwen/Qwen3-4B-Instruct-2507", "Qwen/Qwen3-4B-Instruct-2507", "main")]
    [InlineData("Qwen/Qwen2.5-0.5B@v1.0", "Qwen/Qwen2.5-0.5B", "v1.0")]
    [InlineData("org/name@refs/pr/1", "org/name", "refs/pr/1")]
    [InlineData("org/name@0123456789abcdef0123456789abcdef01234567", "org/name", "0123456789abcdef0123456789abcdef01234567")]
    public void Ids_parse(string text, string repo, string revision)
    {
        Assert.True(HubModelId.TryParse(text, out var id));
        Assert.Equal(repo, id.RepoId);
        Assert.Equal(revision, id.Revision);
        Assert.Equal(text, id.ToString());
    }

    [Theory]
    [InlineData("gpt2")]
    [InlineData("./models/tiny")]
    [InlineData("/abs/path")]
    [InlineData("a/b/c")]
    [InlineData("../x")]
    [InlineData("org/na--me")]
    [InlineData("org/name@")]
    [InlineData("org/-name")]
    [InlineData("org/name@a b")]
    [InlineData("models\\tiny")]
    public void Paths_and_malformed_ids_are_not_ids(string text) => Assert.False(HubModelId.TryParse(text, out _));

    [Fact]
    public void Settings_follow_huggingface_hub_environment_rules()
    {
        var home = Directory.CreateTempSubdirectory("raft-hfhome-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(home, "token"), "  hf_fromfile\r\n");
            var env = new Dictionary<string, string> { ["HF_HOME"] = home, ["HF_ENDPOINT"] = "http://hub.local:8080/", ["HF_HUB_OFFLINE"] = "yes" };
            var settings = HubSettings.FromEnvironment(n => env.GetValueOrDefault(n));
            Assert.Equal(Path.Combine(home, "hub"), settings.CacheDirectory);
            Assert.Equal("http://hub.local:8080", settings.Endpoint);
            Assert.Equal("hf_fromfile", settings.Token);
            Assert.True(settings.Offline);

            env["HF_TOKEN"] = "hf_env";
            env["HF_HUB_CACHE"] = "$HF_HOME/elsewhere";
            env["HF_HUB_OFFLINE"] = "0";
            settings = HubSettings.FromEnvironment(n => env.GetValueOrDefault(n));
            Assert.Equal("hf_env", settings.Token);
            Assert.Equal(Path.Combine(home, "elsewhere"), settings.CacheDirectory);
            Assert.False(settings.Offline);

            var defaults = HubSettings.FromEnvironment(n => n == "XDG_CACHE_HOME" ? "/xdg" : null);
            Assert.Equal("/xdg/huggingface/hub", defaults.CacheDirectory);
            Assert.Equal("https://huggingface.co", defaults.Endpoint);
            Assert.Null(defaults.Token);
        }
        finally
        {
            Directory.Delete(home, recursive: true);
        }
    }
}

public sealed class SnapshotNameTests
{
    [Fact]
    public void A_snapshot_folder_goes_by_its_repository_id()
    {
        var commit = new string('c', 40);
        Assert.Equal("Qwen/Qwen3-0.6B", Cache.HubCache.RepoIdOfSnapshot($"/x/hub/models--Qwen--Qwen3-0.6B/snapshots/{commit}"));
        Assert.Equal("Qwen/Qwen3-0.6B", Cache.HubCache.RepoIdOfSnapshot($"/x/hub/models--Qwen--Qwen3-0.6B/snapshots/{commit}/"));
        Assert.Null(Cache.HubCache.RepoIdOfSnapshot($"/x/hub/models--Qwen--Qwen3-0.6B/snapshots/main"));
        Assert.Null(Cache.HubCache.RepoIdOfSnapshot($"/x/hub/datasets--a--b/snapshots/{commit}"));
        Assert.Null(Cache.HubCache.RepoIdOfSnapshot("/models/Qwen3-0.6B"));
    }
}

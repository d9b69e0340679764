namespace RaftPipeline.Cli.Tests.Hub;

/// <summary>
/// Sets the HF_* variables the CLI reads for the length of a test and restores them after. Tests that use it share
/// one collection, so they never change the environment under each other.
/// </summary>
public sealed class HubEnvironment : IDisposable
{
    static readonly string[] Names = ["HF_ENDPOINT", "HF_HOME", "HF_HUB_CACHE", "HF_HUB_OFFLINE", "HF_TOKEN", "HF_TOKEN_PATH", "HUGGINGFACE_HUB_CACHE", "HUGGING_FACE_HUB_TOKEN", "TRANSFORMERS_OFFLINE"];
    readonly Dictionary<string, string?> saved = Names.ToDictionary(n => n, Environment.GetEnvironmentVariable);

    public HubEnvironment(string endpoint, string home)
    {
        foreach (var name in Names) Environment.SetEnvironmentVariable(name, null);
        Environment.SetEnvironmentVariable("HF_ENDPOINT", endpoint);
        Environment.SetEnvironmentVariable("HF_HOME", home);
    }

    public string Token
    {
        set => Environment.SetEnvironmentVariable("HF_TOKEN", value);
    }

    public bool Offline
    {
        set => Environment.SetEnvironmentVariable("HF_HUB_OFFLINE", value ? "1" : null);
    }

    public void Dispose()
    {
        foreach (var (name, value) in saved) Environment.SetEnvironmentVariable(name, value);
    }
}

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class HubEnvironmentCollection : ICollectionFixture<RaftPipeline.Cli.Tests.Generate.TinyModelFixture>
{
    public const string Name = "HF environment";
}

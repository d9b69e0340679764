namespace RaftPipeline.Serving;

/// <summary>
/// What `raft serve` runs: a model folder served under <see cref="ModelName"/>, each adapter under its own name (a
/// request picks one with its <c>model</c> field, as vLLM serves LoRA modules), where it listens, and its limits.
/// </summary>
public sealed record ServeOptions
{
    public required string ModelDirectory { get; init; }
    /// <summary>The name requests use for the bare model; default: the folder's name.</summary>
    public string? ModelName { get; init; }
    /// <summary>Served name → peft adapter folder.</summary>
    public IReadOnlyDictionary<string, string> Adapters { get; init; } = new Dictionary<string, string>();
    public string Host { get; init; } = "127.0.0.1";
    /// <summary>0 picks a free port (the bound address is <see cref="RaftServer.Address"/>).</summary>
    public int Port { get; init; } = 8000;
    /// <summary>When set, every /v1 request must carry <c>Authorization: Bearer KEY</c>.</summary>
    public string? ApiKey { get; init; }
    /// <summary>The most requests one decode step runs together.</summary>
    public int MaxBatchSize { get; init; } = 8;
    /// <summary>The longest prompt + answer accepted; default and ceiling: the model's max_position_embeddings.</summary>
    public int? MaxModelLength { get; init; }
    /// <summary>How long a stop (SIGTERM, Ctrl-C) waits for running requests to finish.</summary>
    public TimeSpan ShutdownTimeout { get; init; } = TimeSpan.FromSeconds(30);

    public string BaseModelName => ModelName ?? Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(ModelDirectory)));
}

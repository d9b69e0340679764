using RaftPipeline.Core.Spec;

namespace RaftPipeline.Cli.Commands.Serve;

/// <summary>What `raft serve` was asked; <paramref name="Adapters"/> are the raw <c>NAME=DIR</c> (or <c>DIR</c>) values.</summary>
public sealed record ServeRequest(
    string Model,
    IReadOnlyList<string> Adapters,
    string? ServedModelName = null,
    string Host = "127.0.0.1",
    int Port = 8000,
    string? ApiKey = null,
    DeviceKind Device = DeviceKind.Auto,
    int MaxBatchSize = 8,
    int? MaxModelLength = null,
    double ShutdownTimeoutSeconds = 30);

using RaftPipeline.Cli.Commands.Generate;
using RaftPipeline.Core.Spec;

namespace RaftPipeline.Cli.Commands.Chat;

/// <summary>What `raft chat` was asked; <paramref name="System"/> opens every conversation (and survives /reset).</summary>
public sealed record ChatRequest(
    string Model,
    string? Adapter,
    string? System,
    SamplingRequest Sampling,
    DeviceKind Device = DeviceKind.Auto);

using RaftPipeline.Core.Spec;

namespace RaftPipeline.Cli.Commands.Generate;

/// <summary>What `raft generate` was asked: exactly one of <paramref name="Prompt"/> (verbatim text) and
/// <paramref name="Messages"/> (a JSON conversation file rendered with the model's chat template).</summary>
public sealed record GenerateRequest(
    string Model,
    string? Prompt,
    string? Messages,
    string? Adapter,
    SamplingRequest Sampling,
    DeviceKind Device = DeviceKind.Auto,
    bool Json = false);

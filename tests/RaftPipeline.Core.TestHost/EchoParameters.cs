using RaftPipeline.Core.Spec;

namespace RaftPipeline.Core.TestHost;

/// <summary>Parameters of the test stages built in code (the YAML tests use the real kinds' records).</summary>
public sealed record EchoParameters : StageParameters
{
    public string Text { get; init; } = "";
    public double Rate { get; init; } = 1e-4;
    public int Steps { get; init; } = 3;
    public EchoMode Mode { get; init; } = EchoMode.Plain;
    public string? Note { get; init; }
}

public enum EchoMode { Plain, UpperCase }

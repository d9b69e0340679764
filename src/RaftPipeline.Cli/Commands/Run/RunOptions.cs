using RaftPipeline.Core.Engine;

namespace RaftPipeline.Cli.Commands.Run;

/// <summary>What <c>raft run</c> was asked to do, as parsed from the command line.</summary>
/// <param name="Device">cpu, cuda or auto from <c>--device</c>; applied as the override <c>device=...</c> so it is validated like the file.</param>
public sealed record RunOptions(
    string SpecPath,
    IReadOnlyList<string> Targets,
    IReadOnlyList<string> Overrides,
    string? RunDirectory = null,
    bool Verify = false,
    string? Device = null,
    TimeSpan? LockTimeout = null)
{
    public IReadOnlyList<string> AllOverrides => Device is null ? Overrides : [.. Overrides, $"device={Device}"];

    public TimeSpan EffectiveLockTimeout => LockTimeout ?? RunRequest.DefaultLockTimeout;
}

using RaftPipeline.Core.Engine;

namespace RaftPipeline.Cli.Commands.Run;

/// <summary>What <c>raft run</c> was asked to do, as parsed from the command line.</summary>
/// <param name="Device">cpu, cuda or auto from <c>--device</c>; applied as the override <c>device=...</c> so it is validated like the file.</param>
/// <param name="Gpus">From <c>--gpus N</c>: start N data-parallel worker processes of this command (see docs/distributed.md).</param>
/// <param name="NoResume">From <c>--no-resume</c>: clear the checkpoints an interrupted attempt left and start each stage over.</param>
/// <param name="Exports">From <c>--export STAGE=DIR</c>: copy those stages' artifacts out after the run (<see cref="RunExports"/>).</param>
/// <param name="Force">From <c>--force</c>: an export may replace a non-empty folder this cache did not export to.</param>
public sealed record RunOptions(
    string SpecPath,
    IReadOnlyList<string> Targets,
    IReadOnlyList<string> Overrides,
    string? RunDirectory = null,
    bool Verify = false,
    string? Device = null,
    TimeSpan? LockTimeout = null,
    int? Gpus = null,
    bool NoResume = false,
    IReadOnlyList<string>? Exports = null,
    bool Force = false)
{
    /// <summary>False in the worker processes other than rank 0 of a data-parallel run: they build in a scratch cache and export nothing.</summary>
    public bool ExportsEnabled { get; init; } = true;

    /// <summary>This command line again, without <c>--gpus</c>: what each worker process runs.</summary>
    public IReadOnlyList<string> WorkerArguments()
    {
        var args = new List<string> { "run", SpecPath };
        args.AddRange(Targets);
        foreach (var o in Overrides) args.AddRange(["--set", o]);
        if (RunDirectory is not null) args.AddRange(["--run-dir", RunDirectory]);
        if (Verify) args.Add("--verify");
        if (NoResume) args.Add("--no-resume");
        if (Device is not null) args.AddRange(["--device", Device]);
        foreach (var e in Exports ?? []) args.AddRange(["--export", e]);
        if (Force) args.Add("--force");
        if (LockTimeout is { } t) args.AddRange(["--lock-timeout", ((int)t.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        return args;
    }

    public IReadOnlyList<string> AllOverrides => Device is null ? Overrides : [.. Overrides, $"device={Device}"];

    public TimeSpan EffectiveLockTimeout => LockTimeout ?? RunRequest.DefaultLockTimeout;
}

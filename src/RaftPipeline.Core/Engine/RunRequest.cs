using RaftPipeline.Core.Spec;

namespace RaftPipeline.Core.Engine;

/// <summary>How to run a pipeline: which stages, where the run folder goes, how strictly to check.</summary>
public sealed record RunRequest
{
    /// <summary>The stages asked for by name (recorded in the lock file); empty: all of them.</summary>
    public IReadOnlyList<string> Targets { get; init; } = [];

    /// <summary>This run's folder; null: <c>runs/&lt;pipeline&gt;/&lt;UTC timestamp&gt;/</c> beside the spec.</summary>
    public string? RunDirectory { get; init; }

    /// <summary>Rehash every external input (ignore the memo) and check reused artifacts against their manifests.</summary>
    public bool Verify { get; init; }

    /// <summary>Resume a stage from the checkpoints a failed or killed attempt left (true), or clear them and start over (<c>--no-resume</c>).</summary>
    public bool Resume { get; init; } = true;

    /// <summary>The device stages run on; never <see cref="DeviceKind.Auto"/> (the caller resolves it and says so).</summary>
    public DeviceKind Device { get; init; } = DeviceKind.Cpu;

    /// <summary>How long to wait for another process's hold on the cache before giving up.</summary>
    public TimeSpan LockTimeout { get; init; } = DefaultLockTimeout;

    /// <summary>
    /// Long enough to outwait a typical quick run (format, analyze, a small training) started a moment before;
    /// short enough that a forgotten run does not hang a build agent for hours.
    /// </summary>
    public static readonly TimeSpan DefaultLockTimeout = TimeSpan.FromMinutes(30);

    /// <summary>The <c>--set</c> overrides the spec was loaded with, recorded in the lock file.</summary>
    public IReadOnlyList<string> Overrides { get; init; } = [];
    /// <summary>
    /// Resolves a Hugging Face model id input to its snapshot in the HF cache, downloading what is missing; null: a
    /// spec with model ids is refused (the caller builds it from the environment, which Core never reads).
    /// </summary>
    public Func<RaftPipeline.Hub.HubModelId, RaftPipeline.Hub.HubSnapshot>? ResolveHubModel { get; init; }

    /// <summary>The resolved spec as YAML, written to <c>spec.resolved.yaml</c>; null: not written.</summary>
    public string? ResolvedSpecYaml { get; init; }
}

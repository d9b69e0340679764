using RaftPipeline.Core.Engine;

namespace RaftPipeline.MSBuild.Check;

/// <summary>
/// A stage kind's implementation version as a run of the tool recorded it. The check needs the version to compute
/// keys but must never load the real executors (they bring TorchSharp into the MSBuild node), so it stands in
/// for them in the key resolver and refuses to run anything.
/// </summary>
sealed class RecordedExecutor(string kind, int version) : IStageExecutor
{
    public string Kind { get; } = kind;

    public int Version { get; } = version;

    public Task<StageOutcome> RunAsync(StageContext context, CancellationToken cancellationToken) =>
        throw new NotSupportedException($"the up-to-date check computes keys only; stage '{context.Stage.Name}' runs in the tool");
}

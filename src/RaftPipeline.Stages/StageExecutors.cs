using RaftPipeline.Core.Engine;

namespace RaftPipeline.Stages;

/// <summary>
/// The stage executors this build ships, one per stage kind; the CLI and the MSBuild task hand them to
/// <see cref="StageExecutorRegistry"/>. Core knows no concrete stage, and test doubles never appear here.
/// </summary>
public static class StageExecutors
{
    /// <summary>
    /// Every shipped executor. Empty for now: the lead adds each kind (load, format, analyze, quantize, lora,
    /// train, merge, generate, eval) as its executor lands; until then a run names the kind it cannot run.
    /// </summary>
    public static IReadOnlyList<IStageExecutor> All() => [];
}

using RaftPipeline.Core.Engine;
using RaftPipeline.Stages.Analyze;
using RaftPipeline.Stages.Eval;
using RaftPipeline.Stages.Export;
using RaftPipeline.Stages.Format;
using RaftPipeline.Stages.Generate;
using RaftPipeline.Stages.Load;
using RaftPipeline.Stages.Lora;
using RaftPipeline.Stages.Merge;
using RaftPipeline.Stages.Preset;
using RaftPipeline.Stages.Push;
using RaftPipeline.Stages.Quantize;
using RaftPipeline.Stages.Train;

namespace RaftPipeline.Stages;

/// <summary>
/// The stage executors this build ships, one per stage kind; the CLI and the MSBuild task hand them to
/// <see cref="StageExecutorRegistry"/>. Core knows no concrete stage, and test doubles never appear here.
/// </summary>
public static class StageExecutors
{
    /// <summary>Every shipped executor, in recipe order.</summary>
    public static IReadOnlyList<IStageExecutor> All() =>
    [
        new ModelPresetStageExecutor(),
        new LoadStageExecutor(),
        new FormatStageExecutor(),
        new AnalyzeStageExecutor(),
        new QuantizeStageExecutor(),
        new LoraStageExecutor(),
        new TrainStageExecutor(),
        new MergeStageExecutor(),
        new GenerateStageExecutor(),
        new EvalStageExecutor(),
        new ExportStageExecutor(),
        new PushStageExecutor(),
    ];
}

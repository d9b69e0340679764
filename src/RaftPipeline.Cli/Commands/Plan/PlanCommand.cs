using RaftPipeline.Cli.Console;
using RaftPipeline.Cli.Models;
using RaftPipeline.Core.Engine;
using RaftPipeline.Core.Graph;
using RaftPipeline.Core.Runs;
using RaftPipeline.Core.Spec;
using RaftPipeline.Core.Store;

namespace RaftPipeline.Cli.Commands.Plan;

/// <summary>
/// <c>raft plan</c>: what <c>raft run</c> would do, running nothing: every stage in order with its key prefix,
/// and "reuse" or "run" with the reason (never built, new parameters, upstream changed, input changed, ...),
/// found against the pipeline's earlier runs beside the spec. External inputs are hashed (through the memo).
/// </summary>
public sealed class PlanCommand(IReadOnlyList<IStageExecutor> executors)
{
    /// <param name="gpus">As <c>raft run --gpus N</c>: plans the train stages with world_size N (their keys and effective batch).</param>
    public int Run(string specPath, IReadOnlyList<string> targets, IReadOnlyList<string> overrides, bool verify, TextWriter output, TextWriter error,
        int? gpus = null)
    {
        var loaded = SpecLoader.Load(specPath, overrides);
        if (gpus is > 1 && loaded.IsValid)
            loaded = SpecLoader.Load(specPath, [.. overrides,
                .. RaftPipeline.Cli.Commands.Run.Distributed.DistributedRun.TrainStages(loaded.Spec, targets).Select(s => $"{s}.world_size={gpus}")]);
        if (!loaded.IsValid)
        {
            foreach (var e in loaded.Errors) error.WriteLine(e);
            error.WriteLine($"{loaded.Errors.Count} error{(loaded.Errors.Count == 1 ? "" : "s")}.");
            return RaftCli.ExitCodes.BadInput;
        }
        var spec = loaded.Spec;
        var graph = PipelineGraph.Build(spec);
        var unknown = graph.UnknownTargets(targets);
        if (unknown.Count > 0)
        {
            foreach (var u in unknown) error.WriteLine($"{specPath}: {u}");
            return RaftCli.ExitCodes.BadInput;
        }
        var ordered = targets.Count == 0 ? graph.TopologicalOrder : graph.Closure(targets);

        var store = new ArtifactStore(spec.CacheDirectory);
        var memo = InputHashMemo.Open(store.Root);
        IReadOnlyList<ResolvedStage> stages;
        try
        {
            // Planning names a Hub model's commit without downloading it.
            stages = new StageKeyResolver(new StageExecutorRegistry(executors), new ExternalInputHasher(memo, verify), store,
                    ModelArguments.ForPipeline(new HubProgressRenderer(error), download: false))
                .Resolve(spec.Seed, ordered);
        }
        catch (RunPreparationException e)
        {
            foreach (var problem in e.Problems) error.WriteLine(problem);
            return RaftCli.ExitCodes.BadInput;
        }
        // Planning may hash a large folder for the first time: keep that work for the run that follows.
        if (Directory.Exists(store.Root)) memo.Save();

        var plan = PipelinePlanner.Plan(stages, store, RunHistory.Load(RunFolder.DefaultPipelineRunsDirectory(spec)));
        var nameWidth = Math.Max(5, plan.Max(p => p.Stage.Length));
        var kindWidth = Math.Max(4, plan.Max(p => p.Kind.Length));
        output.WriteLine($"pipeline '{spec.Name}': {plan.Count} stage{(plan.Count == 1 ? "" : "s")}, cache {store.Root}");
        foreach (var entry in plan)
        {
            var what = entry.Reuse ? "reuse" : $"run    {string.Join("; ", entry.Reasons)}";
            output.WriteLine($"  {entry.Stage.PadRight(nameWidth)}  {entry.Kind.PadRight(kindWidth)}  {Console.Formats.ShortKey(entry.Key)}  {what}");
            if (spec.Stages.FirstOrDefault(s => s.Name == entry.Stage)?.Parameters is Core.Spec.Stages.TrainParameters train)
            {
                int world = train.WorldSize ?? 1;
                output.WriteLine($"  {"".PadRight(nameWidth)}  {"".PadRight(kindWidth)}  effective batch {train.BatchSize * world * train.GradientAccumulationSteps} " +
                                 $"= batch_size {train.BatchSize} × world_size {world} × gradient_accumulation_steps {train.GradientAccumulationSteps}");
            }
        }
        var toRun = plan.Count(p => !p.Reuse);
        output.WriteLine(toRun == 0 ? "everything is up to date" : $"{toRun} to run, {plan.Count - toRun} to reuse");
        return RaftCli.ExitCodes.Ok;
    }
}

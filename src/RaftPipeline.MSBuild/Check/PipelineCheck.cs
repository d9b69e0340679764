using RaftPipeline.Core.Engine;
using RaftPipeline.Core.Graph;
using RaftPipeline.Core.Runs;
using RaftPipeline.Core.Spec;
using RaftPipeline.Core.Store;

namespace RaftPipeline.MSBuild.Check;

/// <summary>
/// Decides in process, through RaftPipeline.Core only, whether running a pipeline would only reuse artifacts:
/// it computes every stage's key exactly as the tool does (spec parameters after overrides, the content hashes
/// of the data files, the upstream keys, the stage implementations' versions for this tool version) and looks
/// each key up in the cache. Knows nothing of MSBuild, so it is tested on its own.
/// </summary>
public static class PipelineCheck
{
    public static PipelineCheckResult Run(PipelineCheckRequest request)
    {
        var loaded = SpecLoader.Load(request.SpecPath, request.Overrides);
        if (!loaded.IsValid)
            return PipelineCheckResult.Stale($"the spec has {loaded.Errors.Count} error{(loaded.Errors.Count == 1 ? "" : "s")} (the tool reports them)");
        var spec = loaded.Spec;
        var runsDirectory = request.RunsDirectory is { Length: > 0 } dir
            ? Path.GetFullPath(dir)
            : RunFolder.DefaultPipelineRunsDirectory(spec);

        var graph = PipelineGraph.Build(spec);
        var unknown = graph.UnknownTargets(request.Targets);
        if (unknown.Count > 0) return PipelineCheckResult.Stale(string.Join("; ", unknown), spec.Name, runsDirectory);
        var ordered = request.Targets.Count == 0 ? graph.TopologicalOrder : graph.Closure(request.Targets);
        var finals = FinalStages.Of(graph, ordered, request.Targets);

        var store = new ArtifactStore(spec.CacheDirectory);
        if (!Directory.Exists(store.Root))
            return PipelineCheckResult.Stale($"no cache yet at {store.Root}", spec.Name, runsDirectory);

        var history = RunHistory.Load(runsDirectory);
        var kinds = ordered.Select(s => s.Kind).Distinct(StringComparer.Ordinal).ToList();
        var versions = RecordedExecutorVersions.Find(kinds, request.ToolVersion, history, store);
        var unseen = kinds.Where(k => !versions.ContainsKey(k)).ToList();
        if (unseen.Count > 0)
            return PipelineCheckResult.Stale(
                $"tool {request.ToolVersion} has not built a stage of kind {string.Join(", ", unseen.Select(k => $"'{k}'"))} in this cache yet",
                spec.Name, runsDirectory);

        var registry = new StageExecutorRegistry(versions.Select(p => (IStageExecutor)new RecordedExecutor(p.Key, p.Value)));
        var memo = InputHashMemo.Open(store.Root);
        IReadOnlyList<ResolvedStage> resolved;
        try
        {
            // A Hugging Face model id is looked up (its commit and file hashes, nothing downloaded) as `raft run` would,
            // so a new upstream revision makes the build stale; offline or unreachable, the HF cache answers.
            var hub = new RaftPipeline.Hub.HubModelResolver(RaftPipeline.Hub.HubSettings.FromEnvironment());
            resolved = new StageKeyResolver(registry, new ExternalInputHasher(memo), store, id => hub.Resolve(id, download: false))
                .Resolve(spec.Seed, ordered);
        }
        catch (RunPreparationException e)
        {
            return PipelineCheckResult.Stale(e.Problems[0], spec.Name, runsDirectory);
        }
        // The memo only speeds up the next hashing; it is written atomically, so sharing it with a tool run is safe.
        memo.Save();

        var stages = resolved
            .Select(r => new CheckedStage(r.Name, r.Stage.Kind, r.Key, store.Contains(r.Key),
                Path.Combine(store.EntryDirectory(r.Key), ArtifactStore.DataFolderName), finals.Contains(r.Name)))
            .ToList();
        var missing = stages.Where(s => !s.Cached).Select(s => s.Name).ToList();
        return missing.Count == 0
            ? new PipelineCheckResult(true, "every stage is in the cache", spec.Name, runsDirectory, stages)
            : PipelineCheckResult.Stale($"not in the cache: {string.Join(", ", missing)}", spec.Name, runsDirectory, stages);
    }
}

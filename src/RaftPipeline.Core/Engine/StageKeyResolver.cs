using RaftPipeline.Core.Spec;
using RaftPipeline.Core.Store;
using RaftPipeline.Hub;

namespace RaftPipeline.Core.Engine;

/// <summary>
/// Computes every stage's key before anything runs. A key depends on the upstream stages' keys, not on their
/// artifacts' bytes, so the whole plan is known up front: the store path of every artifact too.
/// </summary>
/// <param name="resolveHub">Resolves a Hugging Face model id to its snapshot (downloading it or only naming its commit, as
/// the caller decides); null: a spec with model ids cannot be resolved here, and says so.</param>
public sealed class StageKeyResolver(StageExecutorRegistry registry, ExternalInputHasher hasher, ArtifactStore store,
    Func<HubModelId, HubSnapshot>? resolveHub = null)
{
    /// <param name="ordered">Stages in topological order (every stage after the stages it reads).</param>
    /// <exception cref="RunPreparationException">Every missing executor and every input that could not be hashed.</exception>
    public IReadOnlyList<ResolvedStage> Resolve(long seed, IReadOnlyList<StageSpec> ordered)
    {
        var problems = new List<string>();
        var keys = new Dictionary<string, string>(StringComparer.Ordinal);
        var resolved = new List<ResolvedStage>();
        // One digest per distinct path: a model folder read by several stages is hashed once.
        var digests = new Dictionary<string, InputDigest>(StringComparer.Ordinal);
        foreach (var stage in ordered)
        {
            var executor = registry.Find(stage.Kind);
            if (executor is null)
            {
                problems.Add($"{stage.Location}: stage '{stage.Name}': no executor is registered for kind '{stage.Kind}'" +
                             (registry.Kinds.Count == 0 ? " (this build registers none)" : $" (registered: {string.Join(", ", registry.Kinds.Order())})"));
                continue;
            }
            var inputs = new SortedDictionary<string, IReadOnlyList<ResolvedInput>>(StringComparer.Ordinal);
            var complete = true;
            foreach (var (slot, list) in stage.Inputs)
            {
                var items = new List<ResolvedInput>();
                foreach (var input in list)
                {
                    switch (input)
                    {
                        case StageInput.FromStage from:
                            if (keys.TryGetValue(from.Stage, out var upstreamKey))
                                items.Add(new ResolvedInput.Artifact(from.Stage, upstreamKey,
                                    Path.Combine(store.EntryDirectory(upstreamKey), ArtifactStore.DataFolderName)));
                            else
                            {
                                complete = false;
                                if (!ordered.Any(s => s.Name == from.Stage))
                                    problems.Add($"{stage.Location}: stage '{stage.Name}' reads stage '{from.Stage}', which is not part of this run (or comes after it)");
                            }
                            break;
                        case StageInput.FromPath path:
                            if (!digests.TryGetValue(path.Path, out var digest))
                            {
                                try
                                {
                                    digest = hasher.Hash(path.Path);
                                    digests[path.Path] = digest;
                                }
                                catch (IOException e)
                                {
                                    problems.Add($"{stage.Location}: stage '{stage.Name}', input '{slot}': {e.Message}");
                                    complete = false;
                                    continue;
                                }
                                catch (UnauthorizedAccessException e)
                                {
                                    problems.Add($"{stage.Location}: stage '{stage.Name}', input '{slot}': cannot read '{path.Path}' ({e.Message})");
                                    complete = false;
                                    continue;
                                }
                            }
                            items.Add(new ResolvedInput.External(digest));
                            break;
                        case StageInput.FromHub hub:
                            var hubKey = "hf:" + hub.Id;
                            if (!digests.TryGetValue(hubKey, out var hubDigest))
                            {
                                var problem = resolveHub is null
                                    ? "Hugging Face model ids are not resolved by this command"
                                    : null;
                                if (problem is null)
                                {
                                    try
                                    {
                                        hubDigest = ExternalInputHasher.OfHubSnapshot(resolveHub!(hub.Id));
                                        digests[hubKey] = hubDigest;
                                    }
                                    catch (HubException e)
                                    {
                                        problem = e.Message;
                                    }
                                }
                                if (problem is not null)
                                {
                                    problems.Add($"{stage.Location}: stage '{stage.Name}', input '{slot}': '{hub.Id}' is no local path ({hub.LocalPath}), " +
                                                 $"so it was taken as a Hugging Face model id: {problem}");
                                    complete = false;
                                    continue;
                                }
                            }
                            items.Add(new ResolvedInput.External(hubDigest!));
                            break;
                    }
                }
                inputs[slot] = items;
            }
            if (!complete) continue;
            var material = new StageKeyMaterial(stage.Kind, executor.Version, seed, CanonicalParameters.ToJson(stage.Parameters), inputs);
            var key = material.ComputeKey();
            keys[stage.Name] = key;
            resolved.Add(new ResolvedStage(stage, executor, material, key));
        }
        if (problems.Count > 0) throw new RunPreparationException(problems);
        return resolved;
    }
}

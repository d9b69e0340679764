using System.Text.Json.Nodes;
using RaftPipeline.Core.Spec;

namespace RaftPipeline.Core.Engine;

/// <summary>A stage with its executor, its inputs resolved (upstream keys, external content hashes) and its key.</summary>
public sealed record ResolvedStage(StageSpec Stage, IStageExecutor Executor, StageKeyMaterial Material, string Key)
{
    public string Name => Stage.Name;

    /// <summary>The upstream stages this one reads, in input order, without repeats.</summary>
    public IReadOnlyList<string> UpstreamStages =>
        Material.Inputs.Values.SelectMany(v => v).OfType<ResolvedInput.Artifact>().Select(a => a.Stage).Distinct().ToList();

    /// <summary>Slot → inputs as the manifest and the lock file record them (names and paths for people).</summary>
    public JsonObject InputsJson()
    {
        var o = new JsonObject();
        foreach (var (slot, inputs) in Material.Inputs)
        {
            var array = new JsonArray();
            foreach (var input in inputs)
                array.Add(input switch
                {
                    ResolvedInput.Artifact a => new JsonObject { ["stage"] = a.Stage, ["key"] = a.Key },
                    ResolvedInput.External { Digest.Source: { } source } e =>
                        new JsonObject { ["path"] = e.Digest.Path, ["sha256"] = e.Digest.Sha256, ["source"] = source },
                    ResolvedInput.External e => new JsonObject { ["path"] = e.Digest.Path, ["sha256"] = e.Digest.Sha256 },
                    _ => throw new InvalidOperationException(input.GetType().Name),
                });
            o[slot] = array;
        }
        return o;
    }

    /// <summary>Slot → the paths the stage reads: upstream artifact data folders or external paths.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>> InputPaths() =>
        Material.Inputs.ToDictionary(p => p.Key, p => (IReadOnlyList<string>)p.Value.Select(i => i.Path).ToList(), StringComparer.Ordinal);
}

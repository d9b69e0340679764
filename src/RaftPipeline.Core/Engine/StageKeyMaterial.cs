using System.Text.Json.Nodes;
using RaftPipeline.Core.Store;

namespace RaftPipeline.Core.Engine;

/// <summary>One resolved input of a stage: an upstream artifact (by key) or an external path (by content).</summary>
public abstract record ResolvedInput
{
    /// <summary>The artifact folder (or path) the stage reads.</summary>
    public abstract string Path { get; }

    public sealed record Artifact(string Stage, string Key, string ArtifactPath) : ResolvedInput
    {
        public override string Path => ArtifactPath;
    }

    public sealed record External(InputDigest Digest) : ResolvedInput
    {
        public override string Path => Digest.Path;
    }
}

/// <summary>
/// Everything a stage's key is made of. The key is the SHA-256 of <see cref="ToCanonicalText"/>:
/// <code>{"executor_version":V,"inputs":{"slot":[{"artifact":KEY}|{"content":SHA256},...]},"kind":K,"parameters":{...},"seed":S}</code>
/// Names are left out on purpose: the stage's own name, upstream stage names, external paths and the spec's
/// file name never enter a key, so renaming a stage or moving a data file keeps what was built. The seed is
/// in, because every stage receives it (<see cref="StageContext.Seed"/>) and may draw from it.
/// Inputs keep their order within a slot (several files of one slot may be read in order).
/// </summary>
public sealed record StageKeyMaterial(
    string Kind,
    int ExecutorVersion,
    long Seed,
    JsonObject Parameters,
    IReadOnlyDictionary<string, IReadOnlyList<ResolvedInput>> Inputs)
{
    public string ToCanonicalText()
    {
        var inputs = new JsonObject();
        foreach (var (slot, list) in Inputs)
        {
            var array = new JsonArray();
            foreach (var input in list)
                array.Add(input switch
                {
                    ResolvedInput.Artifact a => new JsonObject { ["artifact"] = a.Key },
                    ResolvedInput.External e => new JsonObject { ["content"] = e.Digest.Sha256 },
                    _ => throw new InvalidOperationException(input.GetType().Name),
                });
            inputs[slot] = array;
        }
        var root = new JsonObject
        {
            ["kind"] = Kind,
            ["executor_version"] = ExecutorVersion,
            ["seed"] = Seed,
            ["parameters"] = Parameters.DeepClone(),
            ["inputs"] = inputs,
        };
        return CanonicalJson.Write(root);
    }

    public string ComputeKey() => ContentHash.OfText(ToCanonicalText());
}

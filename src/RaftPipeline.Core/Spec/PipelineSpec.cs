namespace RaftPipeline.Core.Spec;

/// <summary>Where a pipeline runs its tensors. <c>auto</c> picks CUDA when present and says so.</summary>
public enum DeviceKind { Cpu, Cuda, Auto }

/// <summary>
/// A validated pipeline spec: what the YAML said, with variables substituted, overrides applied,
/// defaults filled and every stage's parameters bound to its typed record.
/// </summary>
/// <param name="SourceFile">Absolute path of the YAML file; relative paths in the spec are resolved against its folder.</param>
/// <param name="CacheDirectory">Absolute path of the artifact cache root.</param>
/// <remarks><see cref="Exports"/> is the top-level <c>export:</c> map; it has nothing to do with a stage of kind
/// <c>export</c> (which converts a model, e.g. to GGUF, as a stage of the DAG).</remarks>
public sealed record PipelineSpec(
    string Name,
    long Seed,
    DeviceKind Device,
    string CacheDirectory,
    IReadOnlyDictionary<string, string> Vars,
    IReadOnlyList<StageSpec> Stages,
    string SourceFile)
{
    /// <summary>
    /// The top-level <c>export:</c> map: stage name → absolute folder that <c>raft run</c> copies the stage's artifact
    /// to after the run (writable, replaced atomically). Not part of any stage's key.
    /// </summary>
    public IReadOnlyDictionary<string, string> Exports { get; init; } = new Dictionary<string, string>(StringComparer.Ordinal);
}

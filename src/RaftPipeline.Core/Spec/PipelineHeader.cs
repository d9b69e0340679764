using System.ComponentModel;
using System.ComponentModel.DataAnnotations;

namespace RaftPipeline.Core.Spec;

/// <summary>
/// The top-level scalar keys of a spec, as a record so that the binder, the schema and the docs read them like
/// the stage parameters. <c>vars</c> and <c>stages</c> have their own shapes and are handled beside it.
/// </summary>
public sealed record PipelineHeader
{
    [Description("Name of the pipeline; names its run folders (runs/<name>/...).")]
    [Required]
    [RegularExpression("^[A-Za-z0-9_.-]+$")]
    public string Name { get; init; } = "";

    [Description("Pipeline seed; every stage derives its own seeds from it deterministically.")]
    public long Seed { get; init; }

    [Description("Where tensors live: cpu, cuda, or auto (CUDA when present, and the run says which).")]
    public DeviceKind Device { get; init; } = DeviceKind.Auto;

    [Description("Artifact cache folder, relative to the spec file's folder.")]
    [MinLength(1)]
    public string Cache { get; init; } = ".raft-cache";
}

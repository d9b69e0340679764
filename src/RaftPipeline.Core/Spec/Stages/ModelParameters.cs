using System.ComponentModel;
using System.ComponentModel.DataAnnotations;

namespace RaftPipeline.Core.Spec.Stages;

/// <summary>Parameters of a <c>model</c> stage: a built-in model written as a Hugging Face folder, so a pipeline needs no download.</summary>
[Description("Writes a built-in model (random weights, the real Qwen3 tokenizer) as a Hugging Face model folder, for trying pipelines without a download.")]
public sealed record ModelParameters : StageParameters
{
    [Description("Which built-in model: tiny (a 2-layer Qwen3 of about 10 M parameters, trainable on a CPU in minutes).")]
    [Required]
    public ModelPreset Preset { get; init; } = ModelPreset.Tiny;

    [Description("Seed of the random weights; when absent, derived from the pipeline seed.")]
    public long? Seed { get; init; }
}

/// <summary>The built-in models.</summary>
public enum ModelPreset { Tiny }

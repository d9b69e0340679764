using System.ComponentModel;
using System.ComponentModel.DataAnnotations;

namespace RaftPipeline.Core.Spec.Stages;

/// <summary>Parameters of a <c>merge</c> stage: W' = W + scale·B·A into the 16-bit base, saved as a Hugging Face folder.</summary>
[Description("Merges the adapter into the unquantized base weights and saves a Hugging Face model folder (sharded safetensors).")]
public sealed record MergeParameters : StageParameters
{
    [Description("Type of the merged weights.")]
    public TensorDtype Dtype { get; init; } = TensorDtype.Bf16;

    [Description("Largest safetensors shard, as transformers' save_pretrained takes it (e.g. 5GB, 500MB).")]
    [RegularExpression(@"^[1-9][0-9]*(B|KB|MB|GB|KiB|MiB|GiB)$")]
    public string MaxShardSize { get; init; } = "5GB";

    [Description("Hub id of the base model (e.g. Qwen/Qwen3-4B-Instruct-2507), written to the model cards and to the adapter's base_model_name_or_path. Absent: the base model folder's name.")]
    public string? BaseModel { get; init; }
}

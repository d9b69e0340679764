using System.ComponentModel;
using System.ComponentModel.DataAnnotations;

namespace RaftPipeline.Core.Spec.Stages;

/// <summary>Parameters of a <c>lora</c> stage, mirroring peft's LoraConfig.</summary>
[Description("Creates a LoRA adapter (peft-compatible) on the chosen modules of the model.")]
public sealed record LoraParameters : StageParameters
{
    [Description("Rank of the low-rank update.")]
    [Range(1, 4096)]
    public int R { get; init; } = 4;

    [Description("Scaling numerator: the update is scaled by lora_alpha / r (or lora_alpha / sqrt(r) with use_rslora).")]
    [Range(0.0, double.MaxValue, MinimumIsExclusive = true)]
    public double LoraAlpha { get; init; } = 8;

    [Description("Dropout applied to the adapter's input.")]
    [Range(0.0, 1.0, MaximumIsExclusive = true)]
    public double LoraDropout { get; init; }

    [Description("Module names to adapt (matched against the end of each module path, as peft does), or the single value 'all-linear' for every linear layer except lm_head. Absent: the attention and MLP projections of the model's family as peft names them (q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj; Phi-3: qkv_proj, o_proj, gate_up_proj, down_proj).")]
    [MinLength(1)]
    [SingleValueAllowed]
    public IReadOnlyList<string>? TargetModules { get; init; }

    [Description("Expert tensors to adapt (peft's target_parameters), matched against the end of each parameter path: for Qwen3-MoE mlp.experts.gate_up_proj and mlp.experts.down_proj (target_modules never reaches an expert). Unset: none.")]
    [SingleValueAllowed]
    public IReadOnlyList<string>? TargetParameters { get; init; }

    [Description("Rank-stabilized LoRA: scale by lora_alpha / sqrt(r).")]
    public bool UseRslora { get; init; }

    [Description("Initialization: kaiming (A kaiming-uniform, B zero, peft's default), gaussian, or pissa.")]
    public LoraInit Init { get; init; } = LoraInit.Kaiming;
}

/// <summary>LoRA weight initializations, named after peft's <c>init_lora_weights</c> values.</summary>
public enum LoraInit { Kaiming, Gaussian, Pissa }

namespace RaftPipeline.Modeling.Lora;

/// <summary>An adapter's hyper-parameters, named as peft's LoraConfig names them.</summary>
public sealed record LoraConfig
{
    public int R { get; init; } = 8;
    public double Alpha { get; init; } = 8;
    public double Dropout { get; init; }
    public required LoraTargets Targets { get; init; }
    /// <summary>
    /// peft's target_parameters: 3-D expert tensors to adapt (Qwen3-MoE's "mlp.experts.gate_up_proj",
    /// "mlp.experts.down_proj"), matched like target_modules names: equal to, or ending in "." + an entry.
    /// </summary>
    public IReadOnlyList<string> TargetParameters { get; init; } = [];
    public bool UseRslora { get; init; }
    public LoraInit Init { get; init; } = LoraInit.Kaiming;
    /// <summary>Seeds the adapter's initial weights; each module derives its own stream from this and its path.</summary>
    public ulong Seed { get; init; }

    /// <summary>alpha / r, or alpha / sqrt(r) with rank-stabilized LoRA (peft LoraLayer.update_layer).</summary>
    public double Scaling => UseRslora ? Alpha / Math.Sqrt(R) : Alpha / R;

    public void Validate()
    {
        if (R <= 0) throw new ArgumentException($"LoRA r must be positive, got {R}");
        if (Dropout is < 0 or >= 1) throw new ArgumentException($"LoRA dropout must be in [0, 1), got {Dropout}");
    }
}

using System.Text.Json.Nodes;
using RaftPipeline.Modeling.Config;

namespace RaftPipeline.Modeling.Families;

/// <summary>
/// Phi-3 (modeling_phi3.py): Llama's math with q|k|v fused into one qkv_proj and gate|up into one gate_up_proj (the
/// checkpoint keys and peft's LoRA targets: one LoRA A per fused projection, never split), RoPE on the first
/// head_dim · partial_rotary_factor dimensions only, sliding window on every layer when set. No biases. Phi-3.5 and
/// Phi-4-mini scale RoPE with longrope (read with the other RoPE types in <see cref="ModelConfigReader"/>).
/// </summary>
public sealed class Phi3Family : FamilyDescriptor
{
    public override DecoderFamily Family => DecoderFamily.Phi3;
    public override string ModelType => "phi3";
    public override string Architecture => "Phi3ForCausalLM";
    public override bool FusedProjections => true;

    public override ModelConfig Read(ModelConfig shared, ConfigJsonReader r)
    {
        // Dropout inside the blocks is not modelled (LoRA dropout is): refuse a config that trains with it.
        foreach (var key in new[] { "resid_pdrop", "embd_pdrop", "attention_dropout" })
            if (r.OptionalDouble(key) is double p && p != 0)
                throw r.Error(key, $"{p} is not supported (supported: 0.0; dropout inside the blocks is not implemented)");
        var window = r.OptionalInt("sliding_window");
        if (window is <= 0) throw r.Error("sliding_window", $"expected a positive integer or null, found {window}");
        return shared with { SlidingWindow = window };
    }

    public override void Write(ModelConfig config, JsonObject json)
    {
        json["sliding_window"] = config.SlidingWindow;
        json["resid_pdrop"] = 0.0;
        json["embd_pdrop"] = 0.0;
        // transformers' Phi3 reads this top-level key to decide when generation switches to longrope's long factors.
        json["original_max_position_embeddings"] = config.RopeScaling?.OriginalMaxPositionEmbeddings ?? config.MaxPositionEmbeddings;
    }
}

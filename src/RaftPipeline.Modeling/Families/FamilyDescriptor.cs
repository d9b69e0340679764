using System.Text.Json.Nodes;
using RaftPipeline.Modeling.Config;

namespace RaftPipeline.Modeling.Families;

/// <summary>
/// One decoder family as the differences from the shared reference blocks (transformers' modular files:
/// <c>class Qwen3Attention(LlamaAttention)</c> adds q/k norms and nothing else). A descriptor says how the family's
/// config.json maps onto <see cref="ModelConfig"/> (its own keys, after the keys every family shares) and which
/// switches of the shared blocks it turns on; the blocks in <c>Decoder/</c> read only <see cref="ModelConfig"/>.
/// Adding a family is a new descriptor plus, only if its math is new, a switch in the block it changes.
/// </summary>
public abstract class FamilyDescriptor
{
    public abstract DecoderFamily Family { get; }

    /// <summary>config.json's model_type.</summary>
    public abstract string ModelType { get; }

    /// <summary>config.json's architectures[0] (the transformers class a merged folder loads as).</summary>
    public abstract string Architecture { get; }

    /// <summary>Per-head RMSNorm of q and k before RoPE (Qwen3, Gemma 3).</summary>
    public virtual bool QkNorm => false;

    /// <summary>Phi-3: q|k|v as one qkv_proj and gate|up as one gate_up_proj, in the checkpoint and as LoRA targets.</summary>
    public virtual bool FusedProjections => false;

    /// <summary>The projections peft's LoRA targets by name for this family (its linear slots' names).</summary>
    public virtual IReadOnlyList<string> LoraTargetNames => FusedProjections
        ? ["qkv_proj", "o_proj", "gate_up_proj", "down_proj"]
        : ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"];

    /// <summary>
    /// peft's target_parameters for this family's 3-D expert tensors (Qwen3-MoE), empty when it has none: the
    /// parameters peft wraps one LoRA (A [r·experts, in], B [out, r·experts]) around, per MoE layer.
    /// </summary>
    public virtual IReadOnlyList<string> LoraTargetParameters => [];

    /// <summary>Gemma: every RMSNorm multiplies by (1 + weight) in fp32 (1), not by weight (0).</summary>
    public virtual double NormWeightOffset => 0;

    /// <summary>Gemma: embeddings times √hidden_size, rounded to the activations' dtype.</summary>
    public virtual bool ScaleEmbeddings => false;

    /// <summary>Gemma 2/3: a norm after attention and after the MLP too (four per block), each before its residual add.</summary>
    public virtual bool SandwichNorms => false;

    /// <summary>
    /// The family's own config keys on top of the shared ones in <paramref name="shared"/>; refuses options the
    /// blocks do not implement (file, key, value, supported values).
    /// </summary>
    public virtual ModelConfig Read(ModelConfig shared, ConfigJsonReader r) => shared;

    /// <summary>The family's own keys written back to config.json (after the shared ones).</summary>
    public virtual void Write(ModelConfig config, JsonObject json) { }
}

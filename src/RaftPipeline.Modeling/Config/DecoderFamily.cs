namespace RaftPipeline.Modeling.Config;

/// <summary>
/// The decoder families this tool builds from one code path. What each changes, and how its config.json maps,
/// is its <see cref="Families.FamilyDescriptor"/> (registry: <see cref="Families.DecoderFamilies"/>).
/// </summary>
public enum DecoderFamily
{
    /// <summary>model_type "qwen3": per-head RMSNorm on q and k before RoPE; biases only if attention_bias.</summary>
    Qwen3,
    /// <summary>model_type "qwen2": bias on q, k, v (never on o); no q/k norm.</summary>
    Qwen2,
    /// <summary>model_type "llama": no q/k norm; biases only if attention_bias / mlp_bias.</summary>
    Llama,
    /// <summary>model_type "mistral": Llama without biases, sliding-window attention.</summary>
    Mistral,
    /// <summary>model_type "phi3" (Phi-3, Phi-4-mini): fused qkv_proj / gate_up_proj, partial rotary.</summary>
    Phi3,
    /// <summary>model_type "gemma2": (1 + w) norms, sandwich norms, GELU-tanh, soft-caps, alternating sliding layers.</summary>
    Gemma2,
    /// <summary>model_type "gemma3_text": Gemma 2 plus q/k norms and a local RoPE base.</summary>
    Gemma3Text,
    /// <summary>model_type "qwen3_moe": Qwen3's attention, a routed mixture of SwiGLU experts in place of the MLP.</summary>
    Qwen3Moe,
}

using RaftPipeline.Export.Gguf;
using RaftPipeline.Export.Source;

namespace RaftPipeline.Export.Families;

/// <summary>Qwen2 / Qwen2.5 (arch qwen2): the standard layout with q/k/v biases, NEOX RoPE, no permutation.</summary>
public sealed class Qwen2GgufFamily : GgufFamily
{
    public override string ModelType => "qwen2";
    public override string Architecture => "qwen2";

    public override ExportModelConfig Read(ExportModelConfig shared, ConfigJson r)
    {
        if (r.OptionalBool("use_sliding_window") == true)
            throw r.Error("use_sliding_window", "true cannot be exported (llama.cpp's qwen2 graph has no sliding window)");
        return shared;
    }
}

/// <summary>Qwen3 (arch qwen3): Qwen2's layout without biases, plus per-head q/k RMSNorm (attn_q_norm, attn_k_norm).</summary>
public sealed class Qwen3GgufFamily : GgufFamily
{
    public override string ModelType => "qwen3";
    public override string Architecture => "qwen3";

    public override IReadOnlyDictionary<string, string> LayerNames { get; } = new Dictionary<string, string>(StandardLayerNames)
    {
        ["self_attn.q_norm"] = "attn_q_norm",
        ["self_attn.k_norm"] = "attn_k_norm",
    };

    public override ExportModelConfig Read(ExportModelConfig shared, ConfigJson r)
    {
        if (r.OptionalBool("use_sliding_window") == true)
            throw r.Error("use_sliding_window", "true cannot be exported (llama.cpp's qwen3 graph has no sliding window)");
        return shared;
    }
}

/// <summary>
/// Qwen3-MoE (arch qwen3moe): Qwen3's attention; every layer's MLP is a router (mlp.gate → ffn_gate_inp, kept F32 as
/// convert_hf_to_gguf keeps it) over experts that the converter stacks, expert index first, into one 3-D tensor per
/// projection (mlp.experts.N.{gate,up,down}_proj → ffn_{gate,up,down}_exps). llama.cpp's qwen3moe graph always routes
/// by softmax, top-k, with the k weights renormalised to sum to 1, in every layer, without a shared expert: a model
/// that differs (norm_topk_prob false, dense layers) is refused.
/// </summary>
public sealed class Qwen3MoeGgufFamily : GgufFamily
{
    public override string ModelType => "qwen3_moe";
    public override string Architecture => "qwen3moe";

    public override IReadOnlyDictionary<string, string> LayerNames { get; } = new Dictionary<string, string>(StandardLayerNames)
    {
        ["self_attn.q_norm"] = "attn_q_norm",
        ["self_attn.k_norm"] = "attn_k_norm",
        ["mlp.gate"] = "ffn_gate_inp",
    };

    public override IReadOnlyDictionary<string, string> ExpertNames { get; } = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["gate_proj"] = "ffn_gate_exps",
        ["up_proj"] = "ffn_up_exps",
        ["down_proj"] = "ffn_down_exps",
    };

    public override ExportModelConfig Read(ExportModelConfig shared, ConfigJson r)
    {
        if (r.OptionalBool("use_sliding_window") == true)
            throw r.Error("use_sliding_window", "true cannot be exported (llama.cpp's qwen3moe graph has no sliding window)");
        // transformers' default is false; llama.cpp's qwen3moe graph renormalises the top-k weights unconditionally
        // (build_moe_ffn with norm_w = true), so a model that does not would be run differently.
        if (r.OptionalBool("norm_topk_prob") != true)
            throw r.Error("norm_topk_prob", "must be true to export (llama.cpp's qwen3moe graph always renormalises the top-k routing " +
                "weights to sum to 1; with false, as here or by default, the GGUF would weigh the experts differently from the model)");
        if ((r.OptionalInt("decoder_sparse_step") ?? 1) != 1)
            throw r.Error("decoder_sparse_step", "must be 1 to export (llama.cpp's qwen3moe graph has a sparse MoE block in every layer)");
        if (r.Has("mlp_only_layers") && r.IntOrIntList("mlp_only_layers").Count > 0)
            throw r.Error("mlp_only_layers", "must be empty to export (llama.cpp's qwen3moe graph has no dense MLP layers)");
        // transformers 5.x writes num_local_experts, 4.x num_experts (defaults as Qwen3MoeConfig's).
        string expertsKey = r.Has("num_local_experts") ? "num_local_experts" : "num_experts";
        int experts = r.OptionalInt(expertsKey) ?? 128, used = r.OptionalInt("num_experts_per_tok") ?? 8;
        if (experts <= 0) throw r.Error(expertsKey, $"expected a positive integer, found {experts}");
        if (used <= 0 || used > experts) throw r.Error("num_experts_per_tok", $"expected 1 to {experts}, found {used}");
        int inner = r.OptionalInt("moe_intermediate_size") ?? 768;
        if (inner <= 0) throw r.Error("moe_intermediate_size", $"expected a positive integer, found {inner}");
        return shared with { ExpertCount = experts, ExpertUsedCount = used, ExpertFeedForwardLength = inner };
    }

    public override IEnumerable<KeyValuePair<string, GgufValue>> Metadata(ExportModelConfig c) =>
    [
        new($"{Architecture}.expert_count", GgufValue.U32((uint)c.ExpertCount!.Value)),
        new($"{Architecture}.expert_used_count", GgufValue.U32((uint)c.ExpertUsedCount!.Value)),
        new($"{Architecture}.expert_feed_forward_length", GgufValue.U32((uint)c.ExpertFeedForwardLength!.Value)),
    ];
}

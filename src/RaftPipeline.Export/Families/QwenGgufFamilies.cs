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

using RaftPipeline.Export.Gguf;
using RaftPipeline.Export.Source;

namespace RaftPipeline.Export.Families;

/// <summary>
/// What Gemma 2 and Gemma 3 share in GGUF (convert_hf_to_gguf's Gemma2Model / Gemma3Model, llama.cpp's gemma2 /
/// gemma3 graphs): four norms per block (attn_norm, post_attention_norm, ffn_norm = pre_feedforward_layernorm,
/// post_ffw_norm), every norm weight written as w + 1, embeddings tied by default and scaled by √hidden in the
/// graph, GELU-tanh, NEOX RoPE, the sliding window in {arch}.attention.sliding_window.
/// <para>
/// Which layers slide is fixed in llama.cpp by architecture (gemma2: even layers; gemma3: all but every sixth), so a
/// config whose layer_types differ is refused. The attention scale is fixed too: 1/√head_dim, or 1/√(hidden/heads) for
/// the 27B sizes (llama.cpp recognises them by layer count); a query_pre_attn_scalar that differs is folded into the
/// attn_q rows (scores scale linearly with q, and RoPE and the soft-cap come after), or for Gemma 3, whose q norm would
/// undo that, into attn_q_norm's weight: exact either way.
/// </para>
/// </summary>
public abstract class GemmaGgufFamily : GgufFamily
{
    public override bool TiesEmbeddingsByDefault => true;
    public override float NormWeightOffset => 1;

    /// <summary>llama.cpp's set_swa_pattern(n): layer i slides when i % n &lt; n - 1.</summary>
    protected abstract int SlidingPattern { get; }

    /// <summary>The layer count llama.cpp takes for the 27B size (attention scale 1/√(hidden/heads)).</summary>
    protected abstract int Layers27B { get; }

    public override IReadOnlyDictionary<string, string> LayerNames { get; } = new Dictionary<string, string>(StandardLayerNames)
    {
        ["post_attention_layernorm"] = "post_attention_norm",
        ["pre_feedforward_layernorm"] = "ffn_norm",
        ["post_feedforward_layernorm"] = "post_ffw_norm",
        ["self_attn.q_norm"] = "attn_q_norm",
        ["self_attn.k_norm"] = "attn_k_norm",
    };

    public override ExportModelConfig Read(ExportModelConfig shared, ConfigJson r)
    {
        var act = r.OptionalString("hidden_activation") ?? r.OptionalString("hidden_act") ?? "gelu_pytorch_tanh";
        if (act != "gelu_pytorch_tanh") throw r.Error("hidden_activation", $"'{act}' cannot be exported (llama.cpp's Gemma graphs use gelu_pytorch_tanh)");
        if (r.OptionalBool("attention_bias") == true) throw r.Error("attention_bias", "true cannot be exported (supported: false)");
        int layers = shared.NumHiddenLayers;
        var llamaCpp = Enumerable.Range(0, layers).Select(i => i % SlidingPattern < SlidingPattern - 1 ? "sliding_attention" : "full_attention").ToList();
        var types = r.OptionalStringList("layer_types");
        if (types is null && r.OptionalInt("sliding_window_pattern") is { } every && every != SlidingPattern)
            throw r.Error("sliding_window_pattern", $"{every} cannot be exported (llama.cpp's {Architecture} graph slides all but every {SlidingPattern}th layer)");
        if (types is not null && !types.SequenceEqual(llamaCpp))
            throw r.Error("layer_types", $"[{string.Join(", ", types)}] cannot be exported: llama.cpp's {Architecture} graph fixes the pattern " +
                $"[{string.Join(", ", llamaCpp)}] (every layer i with i % {SlidingPattern} < {SlidingPattern - 1} slides)");
        return shared with
        {
            SlidingWindow = ReadWindow(r),
            LayerTypes = llamaCpp,
            QueryPreAttnScalar = r.OptionalDouble("query_pre_attn_scalar") ?? 256,
            AttnLogitSoftcapping = r.OptionalDouble("attn_logit_softcapping"),
            FinalLogitSoftcapping = r.OptionalDouble("final_logit_softcapping"),
        };
    }

    public override double QueryScale(ExportModelConfig c)
    {
        double llamaCpp = c.NumHiddenLayers == Layers27B ? c.HiddenSize / c.NumAttentionHeads : c.HeadDim;
        return Math.Sqrt(llamaCpp / c.QueryPreAttnScalar!.Value);
    }

    public override IEnumerable<KeyValuePair<string, GgufValue>> Metadata(ExportModelConfig c)
    {
        // No window in the config: every layer attends fully; a window as long as the context does the same.
        yield return new($"{Architecture}.attention.sliding_window", GgufValue.U32((uint)(c.SlidingWindow ?? c.MaxPositionEmbeddings)));
    }
}

/// <summary>Gemma 2 (arch gemma2): attention and final logits soft-capped. llama.cpp always applies both caps
/// (defaults 50 and 30), so a cap the config leaves out is written as 1e6, under which tanh is the identity to float
/// precision.</summary>
public sealed class Gemma2GgufFamily : GemmaGgufFamily
{
    const double NoCap = 1e6;
    public override string ModelType => "gemma2";
    public override string Architecture => "gemma2";
    protected override int SlidingPattern => 2;
    protected override int Layers27B => 46;

    public override ExportModelConfig Read(ExportModelConfig shared, ConfigJson r)
    {
        if (r.OptionalObject("rope_parameters")?.Has("full_attention") == true)
            throw r.Error("rope_parameters", "per-layer-type RoPE cannot be exported for gemma2 (llama.cpp uses one RoPE)");
        return base.Read(shared, r);
    }

    public override IEnumerable<KeyValuePair<string, GgufValue>> Metadata(ExportModelConfig c) =>
    [
        .. base.Metadata(c),
        new($"{Architecture}.attn_logit_softcapping", GgufValue.F32((float)(c.AttnLogitSoftcapping ?? NoCap))),
        new($"{Architecture}.final_logit_softcapping", GgufValue.F32((float)(c.FinalLogitSoftcapping ?? NoCap))),
    ];
}

/// <summary>Gemma 3 text (arch gemma3; convert_hf_to_gguf's Gemma3Model writes Gemma3ForCausalLM so): Gemma 2's layout
/// plus q/k norms (also + 1). llama.cpp's gemma3 graph has no attention soft-cap and fixes the sliding layers' RoPE base
/// at 10000 with no scaling; configs that differ are refused. The final soft-cap is applied when written.</summary>
public sealed class Gemma3GgufFamily : GemmaGgufFamily
{
    public override string ModelType => "gemma3_text";
    public override string Architecture => "gemma3";
    protected override int SlidingPattern => 6;
    protected override int Layers27B => 62;
    public override bool QueryScaleOnNorm => true;

    /// <summary>On the full-attention layers (llama.cpp keeps the sliding ones unscaled, as transformers does).</summary>
    public override IReadOnlyList<string> RopeScalings => ["linear"];

    public override ExportModelConfig Read(ExportModelConfig shared, ConfigJson r)
    {
        if (r.OptionalDouble("attn_logit_softcapping") is { } cap)
            throw r.Error("attn_logit_softcapping", $"{cap} cannot be exported (llama.cpp's gemma3 graph has no attention soft-cap)");
        var parameters = r.OptionalObject("rope_parameters");
        var sliding = parameters?.OptionalObject("sliding_attention") is { } s
            ? RopeParameters.Read(s, null, r)
            : new RopeParameters { Theta = r.OptionalDouble("rope_local_base_freq") ?? 10000.0 };
        if (sliding.Theta != 10000 || sliding.Type != "default")
            throw r.Error("rope_parameters.sliding_attention", $"(rope_theta {sliding.Theta}, rope_type {sliding.Type}) cannot be exported: " +
                "llama.cpp's gemma3 graph fixes the sliding layers' RoPE at base 10000, unscaled");
        var config = base.Read(shared, r) with { SlidingRope = sliding };
        if (config.SlidingWindow is null) throw r.Error("sliding_window", "is missing (llama.cpp's gemma3 graph requires one)");
        return config;
    }

    public override IEnumerable<KeyValuePair<string, GgufValue>> Metadata(ExportModelConfig c) =>
        c.FinalLogitSoftcapping is { } cap
            ? [.. base.Metadata(c), new($"{Architecture}.final_logit_softcapping", GgufValue.F32((float)cap))]
            : base.Metadata(c);
}

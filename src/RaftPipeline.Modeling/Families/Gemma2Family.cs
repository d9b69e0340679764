using System.Text.Json.Nodes;
using RaftPipeline.Modeling.Config;

namespace RaftPipeline.Modeling.Families;

/// <summary>
/// Gemma 2 (modeling_gemma2.py): RMSNorm by (1 + weight) in fp32, embeddings times √hidden_size, four norms per block,
/// GELU-tanh MLP, scores scaled by 1/√query_pre_attn_scalar and soft-capped (attn_logit_softcapping), sliding and
/// global layers alternating (layer_types), final logits soft-capped (final_logit_softcapping), tied head by default.
/// </summary>
public sealed class Gemma2Family : FamilyDescriptor
{
    public override DecoderFamily Family => DecoderFamily.Gemma2;
    public override string ModelType => "gemma2";
    public override string Architecture => "Gemma2ForCausalLM";
    public override double NormWeightOffset => 1;
    public override bool ScaleEmbeddings => true;
    public override bool SandwichNorms => true;

    public override ModelConfig Read(ModelConfig shared, ConfigJsonReader r) => GemmaConfig.Read(shared, r, slidingEvery: 2);

    public override void Write(ModelConfig config, JsonObject json) => GemmaConfig.Write(config, json);
}

/// <summary>The config keys Gemma 2 and Gemma 3 share.</summary>
static class GemmaConfig
{
    public const string Activation = "gelu_pytorch_tanh";

    /// <param name="slidingEvery">without layer_types: every layer is sliding except each slidingEvery-th (transformers' default pattern)</param>
    public static ModelConfig Read(ModelConfig shared, ConfigJsonReader r, int slidingEvery)
    {
        var act = r.OptionalString("hidden_activation") ?? r.OptionalString("hidden_act") ?? Activation;
        if (act != Activation) throw r.Error("hidden_activation", $"'{act}' is not supported (supported: {Activation})");
        if (r.OptionalBool("attention_bias") ?? false) throw r.Error("attention_bias", "true is not supported for Gemma (supported: false)");
        var window = r.OptionalInt("sliding_window");
        if (window is <= 0) throw r.Error("sliding_window", $"expected a positive integer or null, found {window}");
        int layers = shared.NumHiddenLayers;
        var types = r.OptionalStringList("layer_types");
        if (types is null)
        {
            int every = r.OptionalInt("sliding_window_pattern") ?? slidingEvery;
            types = Enumerable.Range(0, layers).Select(i => (i + 1) % every != 0 ? "sliding_attention" : "full_attention").ToList();
        }
        if (types.Count != layers)
            throw r.Error("layer_types", $"has {types.Count} entries; expected one per layer ({layers})");
        foreach (var t in types)
            if (t is not ("sliding_attention" or "full_attention"))
                throw r.Error("layer_types", $"'{t}' is not supported (supported: sliding_attention, full_attention)");
        return shared with
        {
            HiddenAct = Activation,
            TieWordEmbeddings = r.OptionalBool("tie_word_embeddings") ?? true,
            QueryPreAttnScalar = r.OptionalDouble("query_pre_attn_scalar") ?? 256, // the config classes' default
            AttnLogitSoftcapping = r.OptionalDouble("attn_logit_softcapping"),
            FinalLogitSoftcapping = r.OptionalDouble("final_logit_softcapping"),
            SlidingWindow = window,
            LayerTypes = types,
        };
    }

    public static void Write(ModelConfig config, JsonObject json)
    {
        json["hidden_activation"] = Activation;
        json["attention_bias"] = false;
        json["query_pre_attn_scalar"] = config.QueryPreAttnScalar;
        json["attn_logit_softcapping"] = config.AttnLogitSoftcapping;
        json["final_logit_softcapping"] = config.FinalLogitSoftcapping;
    }
}

using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using RaftPipeline.Modeling.Families;

namespace RaftPipeline.Modeling.Config;

/// <summary>
/// The typed, validated content of a Hugging Face <c>config.json</c> for the decoders this tool builds.
/// Built by <see cref="ModelConfigReader"/>; written back by <see cref="ToJson"/> in the layout transformers reads.
/// </summary>
public sealed record ModelConfig
{
    public required DecoderFamily Family { get; init; }
    public required int VocabSize { get; init; }
    public required int HiddenSize { get; init; }
    public required int IntermediateSize { get; init; }
    public required int NumHiddenLayers { get; init; }
    public required int NumAttentionHeads { get; init; }
    public required int NumKeyValueHeads { get; init; }
    /// <summary>Per-head size; config's head_dim when present (Qwen3 sets it apart from hidden/heads), else hidden/heads.</summary>
    public required int HeadDim { get; init; }
    public required double RmsNormEps { get; init; }
    public required double RopeTheta { get; init; }
    /// <summary>A scaled RoPE (linear, dynamic, yarn, llama3), or null for the default one.</summary>
    public RopeScaling? RopeScaling { get; init; }
    /// <summary>Gemma 3: the RoPE base of the sliding layers (rope_local_base_freq), or null: one RoPE for all.</summary>
    public double? RopeLocalTheta { get; init; }
    /// <summary>The share of each head that RoPE rotates (Phi-3: the first head_dim · factor dimensions).</summary>
    public double PartialRotaryFactor { get; init; } = 1.0;
    /// <summary>The rotated dimensions of a head: int(head_dim · partial_rotary_factor), as transformers truncates.</summary>
    public int RotaryDim => (int)(HeadDim * PartialRotaryFactor);
    public int MaxPositionEmbeddings { get; init; } = 40960;
    /// <summary>
    /// Sliding-window attention: a query at index i sees keys j with i − window &lt; j ≤ i (transformers'
    /// sliding_window_overlay), on every layer (Mistral) or on the layers <see cref="LayerTypes"/> marks sliding.
    /// </summary>
    public int? SlidingWindow { get; init; }
    /// <summary>Per layer "sliding_attention" or "full_attention" (Gemma 2 and 3), or null: every layer alike.</summary>
    public IReadOnlyList<string>? LayerTypes { get; init; }

    /// <summary>Whether layer <paramref name="layer"/> attends through the sliding window.</summary>
    public bool IsSlidingLayer(int layer) =>
        SlidingWindow is not null && (LayerTypes is null || LayerTypes[layer] == "sliding_attention");
    public bool TieWordEmbeddings { get; init; }
    /// <summary>Bias on q/k/v projections.</summary>
    public bool QkvBias { get; init; }
    /// <summary>Bias on o_proj.</summary>
    public bool OutputBias { get; init; }
    /// <summary>Bias on gate/up/down (llama's mlp_bias).</summary>
    public bool MlpBias { get; init; }
    public int? BosTokenId { get; init; }
    public IReadOnlyList<int> EosTokenIds { get; init; } = [];
    public int? PadTokenId { get; init; }
    /// <summary>The dtype the checkpoint was saved in ("bfloat16", "float32", ...), if the config says.</summary>
    public string? Dtype { get; init; }
    public double InitializerRange { get; init; } = 0.02;

    /// <summary>Gemma: scores scale 1/√query_pre_attn_scalar instead of 1/√head_dim.</summary>
    public double? QueryPreAttnScalar { get; init; }
    /// <summary>Gemma 2: attention scores soft-capped, cap · tanh(scores / cap), before the mask and softmax.</summary>
    public double? AttnLogitSoftcapping { get; init; }
    /// <summary>The attention scores' scale.</summary>
    public double AttentionScale => 1.0 / Math.Sqrt(QueryPreAttnScalar ?? HeadDim);

    /// <summary>Gemma 2's final_logit_softcapping: logits = cap · tanh(logits / cap) (see <see cref="Decoder.OutputHead"/>).</summary>
    public double? FinalLogitSoftcapping { get; init; }

    /// <summary>Qwen3-MoE: the routed experts (see <see cref="MoeConfig"/>), or null: every layer has the dense MLP.</summary>
    public MoeConfig? Moe { get; init; }

    /// <summary>Whether layer <paramref name="layer"/> holds the sparse expert block instead of the dense MLP.</summary>
    public bool IsSparseLayer(int layer) => Moe?.IsSparseLayer(layer) ?? false;

    /// <summary>The MLP activation as config.json names it: silu (SwiGLU) unless the family says otherwise.</summary>
    public string HiddenAct { get; init; } = "silu";

    /// <summary>What this family changes in the shared blocks, and how its config.json maps (see <see cref="FamilyDescriptor"/>).</summary>
    public FamilyDescriptor Descriptor => DecoderFamilies.Of(Family);

    public bool QkNorm => Descriptor.QkNorm;

    public string ModelType => Descriptor.ModelType;

    public string Architecture => Descriptor.Architecture;

    /// <summary>
    /// config.json as transformers writes it. RoPE theta goes both top-level (transformers 4.x reads that) and
    /// into rope_parameters (transformers 5.x), so either version loads the folder.
    /// </summary>
    public string ToJson()
    {
        var o = new JsonObject
        {
            ["architectures"] = new JsonArray(Architecture),
            ["model_type"] = ModelType,
            ["vocab_size"] = VocabSize,
            ["hidden_size"] = HiddenSize,
            ["intermediate_size"] = IntermediateSize,
            ["num_hidden_layers"] = NumHiddenLayers,
            ["num_attention_heads"] = NumAttentionHeads,
            ["num_key_value_heads"] = NumKeyValueHeads,
            ["head_dim"] = HeadDim,
            ["hidden_act"] = HiddenAct,
            ["rms_norm_eps"] = RmsNormEps,
            ["rope_theta"] = RopeTheta,
            ["rope_parameters"] = RopeParametersJson(),
            ["max_position_embeddings"] = MaxPositionEmbeddings,
            ["tie_word_embeddings"] = TieWordEmbeddings,
            ["attention_dropout"] = 0.0,
            ["initializer_range"] = InitializerRange,
            ["use_cache"] = true,
        };
        if (RopeScaling is not null)
        {
            var legacy = new JsonObject();
            RopeScaling.WriteTo(legacy);
            o["rope_scaling"] = legacy;
        }
        if (PartialRotaryFactor != 1.0) o["partial_rotary_factor"] = PartialRotaryFactor;
        if (SlidingWindow is int window) o["sliding_window"] = window;
        if (LayerTypes is not null) o["layer_types"] = new JsonArray(LayerTypes.Select(l => (JsonNode)l).ToArray());
        Descriptor.Write(this, o);
        if (BosTokenId is int bos) o["bos_token_id"] = bos;
        if (EosTokenIds.Count == 1) o["eos_token_id"] = EosTokenIds[0];
        else if (EosTokenIds.Count > 1) o["eos_token_id"] = new JsonArray(EosTokenIds.Select(e => (JsonNode)e).ToArray());
        if (PadTokenId is int pad) o["pad_token_id"] = pad;
        if (Dtype is not null)
        {
            o["dtype"] = Dtype;        // transformers 5.x
            o["torch_dtype"] = Dtype;  // transformers 4.x
        }
        return o.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }) + "\n";
    }

    JsonObject RopeParametersJson()
    {
        var p = new JsonObject { ["rope_theta"] = RopeTheta, ["rope_type"] = "default" };
        RopeScaling?.WriteTo(p);
        return p;
    }
}

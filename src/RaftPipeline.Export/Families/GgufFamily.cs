using RaftPipeline.Export.Gguf;
using RaftPipeline.Export.Source;

namespace RaftPipeline.Export.Families;

/// <summary>
/// One decoder family as llama.cpp's converter (convert_hf_to_gguf.py) and loader (llama-model.cpp) describe it, as
/// the differences from the shared layout (mirroring RaftPipeline.Modeling's Families seam): the config keys the family
/// adds, its llama.cpp architecture and the {arch}.* keys beyond the shared ones, its Hugging Face → GGUF tensor names,
/// and the value changes the converter makes (llama's q/k row permutation, Gemma's norm offset). Everything a family
/// sets that llama.cpp's graph for that architecture cannot reproduce is refused in <see cref="Read"/>, with the
/// reason, before anything is written.
/// </summary>
public abstract class GgufFamily
{
    /// <summary>config.json's model_type.</summary>
    public abstract string ModelType { get; }

    /// <summary>general.architecture: llama.cpp's name for the graph that runs the family.</summary>
    public abstract string Architecture { get; }

    public virtual bool TiesEmbeddingsByDefault => false;

    /// <summary>The non-default RoPE types proven for this family (see <see cref="GgufRope"/>).</summary>
    public virtual IReadOnlyList<string> RopeScalings => [];

    /// <summary>llama's graph rotates adjacent pairs (RoPE "normal"), transformers the two halves of each head: the
    /// converter permutes the rows of q_proj and k_proj (LlamaModel.permute). The NEOX-RoPE graphs need nothing.</summary>
    public virtual bool PermutesQueryKey => false;

    /// <summary>Gemma: transformers' RMSNorm multiplies by (1 + w), llama.cpp's by w: the converter writes w + 1.</summary>
    public virtual float NormWeightOffset => 0;

    /// <summary>Module path inside a layer (after model.layers.N.) → GGUF block tensor name.</summary>
    public virtual IReadOnlyDictionary<string, string> LayerNames => StandardLayerNames;

    public static readonly IReadOnlyDictionary<string, string> StandardLayerNames = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["input_layernorm"] = "attn_norm",
        ["self_attn.q_proj"] = "attn_q",
        ["self_attn.k_proj"] = "attn_k",
        ["self_attn.v_proj"] = "attn_v",
        ["self_attn.o_proj"] = "attn_output",
        ["post_attention_layernorm"] = "ffn_norm",
        ["mlp.gate_proj"] = "ffn_gate",
        ["mlp.up_proj"] = "ffn_up",
        ["mlp.down_proj"] = "ffn_down",
    };

    /// <summary>The family's own config keys on top of <paramref name="shared"/>; refuses what llama.cpp cannot run.</summary>
    public virtual ExportModelConfig Read(ExportModelConfig shared, ConfigJson r) => shared;

    /// <summary>{arch}.context_length.</summary>
    public virtual int ContextLength(ExportModelConfig c) => c.MaxPositionEmbeddings;

    /// <summary>{arch}.rope.dimension_count: the dimensions of each head RoPE rotates.</summary>
    public virtual int RopeDimensions(ExportModelConfig c) => c.HeadDim;

    /// <summary>The {arch}.* keys beyond the shared ones.</summary>
    public virtual IEnumerable<KeyValuePair<string, GgufValue>> Metadata(ExportModelConfig c) => [];

    /// <summary>A factor folded into the attn_q rows (and a LoRA B on q) so that llama.cpp's fixed attention scale gives
    /// the model's (Gemma's query_pre_attn_scalar); 1 for the others.</summary>
    public virtual double QueryScale(ExportModelConfig c) => 1;

    /// <summary>The query scale goes on attn_q_norm.weight instead (a q norm follows the projection).</summary>
    public virtual bool QueryScaleOnNorm => false;

    /// <summary>What a reader of the manifest should know about how llama.cpp runs this export (null: nothing).</summary>
    public virtual string? Note(ExportModelConfig c) => null;

    /// <summary>Sliding-window attention where llama.cpp's graph for the architecture has none (llama, phi3): the
    /// model is exact only while the whole sequence fits the window, so the context length written is the window.</summary>
    protected static int WindowedContext(ExportModelConfig c) =>
        c.SlidingWindow is { } w && w < c.MaxPositionEmbeddings ? w : c.MaxPositionEmbeddings;

    protected static string? WindowNote(ExportModelConfig c) => c.SlidingWindow is { } w && w < c.MaxPositionEmbeddings
        ? $"sliding_window {w}: llama.cpp's {c.Family.Architecture} graph attends to the whole context, so the GGUF's " +
          $"context_length is the window ({w}, not max_position_embeddings {c.MaxPositionEmbeddings}); longer contexts would differ from the model"
        : null;

    protected static int? ReadWindow(ConfigJson r)
    {
        var window = r.OptionalInt("sliding_window");
        if (window is <= 0) throw r.Error("sliding_window", $"must be a positive integer or null, found {window}");
        return window;
    }
}

using RaftPipeline.Export.Gguf;
using RaftPipeline.Export.Source;

namespace RaftPipeline.Export.Families;

/// <summary>
/// Phi-3 (arch phi3, Phi3MiniModel in the converter): the fused projections go over as they are: qkv_proj as
/// attn_qkv (llama.cpp splits q|k|v by the head counts) and gate_up_proj as ffn_up with no ffn_gate (llama.cpp's
/// SwiGLU gates with the first half and multiplies the second, as transformers' chunk(2) does). NEOX RoPE on the first
/// head_dim · partial_rotary_factor dimensions ({arch}.rope.dimension_count). llama.cpp currently runs phi3 without
/// its sliding window ("Phi SWA is currently disabled"), so a window shorter than max_position_embeddings becomes the
/// context length, as for Mistral.
/// </summary>
public sealed class Phi3GgufFamily : GgufFamily
{
    public override string ModelType => "phi3";
    public override string Architecture => "phi3";

    public override IReadOnlyDictionary<string, string> LayerNames { get; } = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["input_layernorm"] = "attn_norm",
        ["self_attn.qkv_proj"] = "attn_qkv",
        ["self_attn.o_proj"] = "attn_output",
        ["post_attention_layernorm"] = "ffn_norm",
        ["mlp.gate_up_proj"] = "ffn_up",
        ["mlp.down_proj"] = "ffn_down",
    };

    public override ExportModelConfig Read(ExportModelConfig shared, ConfigJson r)
    {
        var partial = r.OptionalObject("rope_parameters")?.OptionalDouble("partial_rotary_factor") ?? r.OptionalDouble("partial_rotary_factor") ?? 1.0;
        if (partial <= 0 || partial > 1) throw r.Error("partial_rotary_factor", $"{partial} is outside (0, 1]");
        if ((int)(shared.HeadDim * partial) % 2 != 0)
            throw r.Error("partial_rotary_factor", $"{partial} of head_dim {shared.HeadDim} is not an even number of dimensions");
        return shared with { SlidingWindow = ReadWindow(r), PartialRotaryFactor = partial };
    }

    public override int ContextLength(ExportModelConfig c) => WindowedContext(c);

    public override int RopeDimensions(ExportModelConfig c) => (int)(c.HeadDim * c.PartialRotaryFactor);

    public override string? Note(ExportModelConfig c) => WindowNote(c);
}

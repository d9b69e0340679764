using System.Text.RegularExpressions;
using RaftPipeline.Export.Source;

namespace RaftPipeline.Export.Gguf;

/// <summary>
/// How llama.cpp's converter (convert_hf_to_gguf.py; tensor names from gguf-py's tensor_mapping.py) describes the
/// decoder families the tool loads: the architecture name and its hyper-parameter keys, the Hugging Face → GGUF
/// tensor names, and the one family difference in weights: for <c>llama</c> the converter permutes the rows of q_proj
/// and k_proj (LlamaModel.permute) because llama.cpp's llama graph applies RoPE to adjacent pairs (GPT-J style),
/// while transformers rotates the two halves of each head; qwen2 and qwen3 use the NEOX (halves) RoPE in llama.cpp
/// and are written as they are.
/// </summary>
public sealed partial class GgufArchitecture
{
    GgufArchitecture(ExportModelConfig config) => Config = config;

    public ExportModelConfig Config { get; }

    /// <summary>general.architecture: the model_type, which is llama.cpp's name for all three families.</summary>
    public string Name => Config.ModelType;

    public bool PermutesQueryKey => Name == "llama";

    public static GgufArchitecture For(ExportModelConfig config) => new(config);

    /// <summary>The {arch}.* keys convert_hf_to_gguf writes for these families.</summary>
    public IEnumerable<KeyValuePair<string, GgufValue>> Metadata()
    {
        var c = Config;
        yield return new($"{Name}.context_length", GgufValue.U32((uint)c.MaxPositionEmbeddings));
        yield return new($"{Name}.embedding_length", GgufValue.U32((uint)c.HiddenSize));
        yield return new($"{Name}.block_count", GgufValue.U32((uint)c.NumHiddenLayers));
        yield return new($"{Name}.feed_forward_length", GgufValue.U32((uint)c.IntermediateSize));
        yield return new($"{Name}.attention.head_count", GgufValue.U32((uint)c.NumAttentionHeads));
        yield return new($"{Name}.attention.head_count_kv", GgufValue.U32((uint)c.NumKeyValueHeads));
        yield return new($"{Name}.rope.freq_base", GgufValue.F32((float)c.RopeTheta));
        yield return new($"{Name}.attention.layer_norm_rms_epsilon", GgufValue.F32((float)c.RmsNormEps));
        // head_dim may differ from hidden / heads (Qwen3): llama.cpp reads it from key_length / value_length.
        yield return new($"{Name}.attention.key_length", GgufValue.U32((uint)c.HeadDim));
        yield return new($"{Name}.attention.value_length", GgufValue.U32((uint)c.HeadDim));
        yield return new($"{Name}.rope.dimension_count", GgufValue.U32((uint)c.HeadDim));
        if (Name == "llama") yield return new($"{Name}.vocab_size", GgufValue.U32((uint)c.VocabSize));
    }

    static readonly Dictionary<string, string> LayerNames = new(StringComparer.Ordinal)
    {
        ["input_layernorm"] = "attn_norm",
        ["self_attn.q_proj"] = "attn_q",
        ["self_attn.k_proj"] = "attn_k",
        ["self_attn.v_proj"] = "attn_v",
        ["self_attn.o_proj"] = "attn_output",
        ["self_attn.q_norm"] = "attn_q_norm",
        ["self_attn.k_norm"] = "attn_k_norm",
        ["post_attention_layernorm"] = "ffn_norm",
        ["mlp.gate_proj"] = "ffn_gate",
        ["mlp.up_proj"] = "ffn_up",
        ["mlp.down_proj"] = "ffn_down",
    };

    [GeneratedRegex(@"^model\.layers\.(\d+)\.(.+)\.(weight|bias)$")]
    private static partial Regex LayerTensor();

    /// <summary>The GGUF name of a Hugging Face tensor, or null for one the converter drops (rotary inv_freq, a tied
    /// lm_head). An unknown tensor is an error: silently dropping weights would give a different model.</summary>
    public string? GgufName(string hfName)
    {
        if (hfName.EndsWith("rotary_emb.inv_freq", StringComparison.Ordinal)) return null;
        switch (hfName)
        {
            case "model.embed_tokens.weight": return "token_embd.weight";
            case "model.norm.weight": return "output_norm.weight";
            case "lm_head.weight": return Config.TieWordEmbeddings ? null : "output.weight";
        }
        var m = LayerTensor().Match(hfName);
        if (m.Success && LayerNames.TryGetValue(m.Groups[2].Value, out var part))
            return $"blk.{m.Groups[1].Value}.{part}.{m.Groups[3].Value}";
        throw new ExportException(hfName, $"tensor not known to the {Name} GGUF layout (expected embed_tokens, norm, lm_head and " +
            "model.layers.N.{input_layernorm, self_attn.{q,k,v,o}_proj, self_attn.{q,k}_norm, post_attention_layernorm, mlp.{gate,up,down}_proj})");
    }

    /// <summary>The GGUF name of the base weight a LoRA module path targets (e.g. model.layers.0.self_attn.q_proj).</summary>
    public string GgufWeightName(string modulePath) =>
        GgufName(modulePath + ".weight") ?? throw new ExportException(modulePath, "has no GGUF tensor");

    /// <summary>Number of heads whose rows the llama permutation regroups, for a GGUF tensor name (null: none).</summary>
    public int? PermuteHeads(string ggufName)
    {
        if (!PermutesQueryKey) return null;
        if (ggufName.Contains(".attn_q.", StringComparison.Ordinal)) return Config.NumAttentionHeads;
        if (ggufName.Contains(".attn_k.", StringComparison.Ordinal)) return Config.NumKeyValueHeads;
        return null;
    }

    /// <summary>
    /// LlamaModel.permute: rows viewed as [heads, 2, head_dim / 2] become [heads, head_dim / 2, 2], so row
    /// h·d + 2i takes source row h·d + i and row h·d + 2i + 1 takes h·d + d/2 + i. <paramref name="rowLength"/> is 1 for
    /// a bias.
    /// </summary>
    public static float[] PermuteRows(float[] values, int heads, int rowLength)
    {
        int rows = values.Length / rowLength;
        if (rows % (heads * 2) != 0) throw new ExportException("q/k permutation", $"{rows} rows do not split into {heads} heads of even size");
        int headDim = rows / heads, half = headDim / 2;
        var result = new float[values.Length];
        for (int h = 0; h < heads; h++)
            for (int i = 0; i < half; i++)
            {
                Array.Copy(values, (long)(h * headDim + i) * rowLength, result, (long)(h * headDim + 2 * i) * rowLength, rowLength);
                Array.Copy(values, (long)(h * headDim + half + i) * rowLength, result, (long)(h * headDim + 2 * i + 1) * rowLength, rowLength);
            }
        return result;
    }
}

using System.Text.RegularExpressions;
using RaftPipeline.Export.Families;
using RaftPipeline.Export.Source;

namespace RaftPipeline.Export.Gguf;

/// <summary>
/// A model's GGUF description: the keys and tensor layout every family shares (convert_hf_to_gguf's TextModel; tensor
/// names from gguf-py's tensor_mapping.py), with the family's differences from its <see cref="GgufFamily"/>
/// descriptor: architecture name and extra keys, layer tensor names, and the value changes applied to a tensor (or to a
/// LoRA B) before it is written.
/// </summary>
public sealed partial class GgufArchitecture
{
    GgufArchitecture(ExportModelConfig config) => Config = config;

    public ExportModelConfig Config { get; }

    public GgufFamily Family => Config.Family;

    /// <summary>general.architecture.</summary>
    public string Name => Family.Architecture;

    public bool PermutesQueryKey => Family.PermutesQueryKey;

    public static GgufArchitecture For(ExportModelConfig config) => new(config);

    /// <summary>The {arch}.* keys: the shared ones, the family's, and the RoPE scaling's.</summary>
    public IEnumerable<KeyValuePair<string, GgufValue>> Metadata()
    {
        var c = Config;
        yield return new($"{Name}.context_length", GgufValue.U32((uint)Family.ContextLength(c)));
        yield return new($"{Name}.embedding_length", GgufValue.U32((uint)c.HiddenSize));
        yield return new($"{Name}.block_count", GgufValue.U32((uint)c.NumHiddenLayers));
        yield return new($"{Name}.feed_forward_length", GgufValue.U32((uint)c.IntermediateSize));
        yield return new($"{Name}.attention.head_count", GgufValue.U32((uint)c.NumAttentionHeads));
        yield return new($"{Name}.attention.head_count_kv", GgufValue.U32((uint)c.NumKeyValueHeads));
        yield return new($"{Name}.rope.freq_base", GgufValue.F32((float)c.Rope.Theta));
        yield return new($"{Name}.attention.layer_norm_rms_epsilon", GgufValue.F32((float)c.RmsNormEps));
        // head_dim may differ from hidden / heads (Qwen3, Gemma): llama.cpp reads it from key_length / value_length.
        yield return new($"{Name}.attention.key_length", GgufValue.U32((uint)c.HeadDim));
        yield return new($"{Name}.attention.value_length", GgufValue.U32((uint)c.HeadDim));
        yield return new($"{Name}.rope.dimension_count", GgufValue.U32((uint)Family.RopeDimensions(c)));
        foreach (var kv in Family.Metadata(c)) yield return kv;
        foreach (var kv in GgufRope.Metadata(Name, c)) yield return kv;
    }

    /// <summary>Tensors the converter computes rather than copies (llama3 RoPE's rope_freqs.weight).</summary>
    public IEnumerable<(string Name, long[] Shape, float[] Values)> ComputedTensors()
    {
        if (GgufRope.FrequencyFactors(Config) is { } factors) yield return ("rope_freqs.weight", [factors.Length], factors);
    }

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
        if (m.Success && Family.LayerNames.TryGetValue(m.Groups[2].Value, out var part))
            return $"blk.{m.Groups[1].Value}.{part}.{m.Groups[3].Value}";
        throw new ExportException(hfName, $"tensor not known to the {Config.ModelType} GGUF layout (expected model.embed_tokens, model.norm, lm_head and " +
            $"model.layers.N.{{{string.Join(", ", Family.LayerNames.Keys)}}})");
    }

    /// <summary>The GGUF name of the base weight a LoRA module path targets (e.g. model.layers.0.self_attn.q_proj).</summary>
    public string GgufWeightName(string modulePath) =>
        GgufName(modulePath + ".weight") ?? throw new ExportException(modulePath, "has no GGUF tensor");

    /// <summary>A model tensor's values as llama.cpp needs them (PyTorch row-major; <paramref name="shape"/> in PyTorch order).</summary>
    public float[] TransformWeight(string ggufName, long[] shape, float[] values)
    {
        if (Family.NormWeightOffset != 0 && ggufName.EndsWith("_norm.weight", StringComparison.Ordinal))
            for (int i = 0; i < values.Length; i++) values[i] += Family.NormWeightOffset;
        // With a q norm after the projection (Gemma 3), a scale on the attn_q rows would be normalised away: it goes
        // on the norm's weight, which multiplies the normalised q.
        if (Family.QueryScaleOnNorm && ggufName.EndsWith(".attn_q_norm.weight", StringComparison.Ordinal) && Family.QueryScale(Config) is var s && s != 1)
            for (int i = 0; i < values.Length; i++) values[i] = (float)(values[i] * s);
        return TransformRows(ggufName, values, shape.Length == 2 ? (int)shape[1] : 1);
    }

    /// <summary>A LoRA B [out, rank] for base weight <paramref name="baseName"/>: its rows are the base weight's output rows,
    /// so they get the same permutation and scale.</summary>
    public float[] TransformLoraB(string baseName, float[] values, int rank) => TransformRows(baseName, values, rank);

    float[] TransformRows(string ggufName, float[] values, int rowLength)
    {
        bool isQ = ggufName.Contains(".attn_q.", StringComparison.Ordinal), isK = ggufName.Contains(".attn_k.", StringComparison.Ordinal);
        if (PermutesQueryKey && (isQ || isK))
            values = PermuteRows(values, isQ ? Config.NumAttentionHeads : Config.NumKeyValueHeads, rowLength);
        if (isQ && !Family.QueryScaleOnNorm && Family.QueryScale(Config) is var scale && scale != 1)
            for (int i = 0; i < values.Length; i++) values[i] = (float)(values[i] * scale);
        return values;
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

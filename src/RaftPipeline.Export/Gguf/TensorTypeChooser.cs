namespace RaftPipeline.Export.Gguf;

/// <summary>
/// Which ggml type each tensor gets for a file type, following llama.cpp:
/// <list type="bullet">
/// <item>1-D tensors (norms, biases) stay F32 in every file type (convert_hf_to_gguf, llama-quant's
/// tensor_allows_quantization: only 2-D weights, never *_norm.weight).</item>
/// <item>F16/BF16: every 2-D weight in that type. Q8_0: every 2-D weight in Q8_0, F16 when a row is not a whole
/// number of 32-value blocks (convert_hf_to_gguf's fallback).</item>
/// <item>Q4_K_M (llama-quant.cpp, llama_tensor_get_type_impl, no importance matrix): Q4_K by default; Q6_K for
/// output.weight (and token_embd.weight when the embeddings are tied, as there is then no output tensor); Q6_K for
/// attn_v and ffn_down in the layers use_more_bits picks (the first and last eighth, and every third between);
/// Q5_K for a fused attn_qkv (Phi-3); a tensor whose rows are not a multiple of 256 falls back as
/// tensor_type_fallback does (Q4_K → Q5_0, Q5_K → Q5_1, Q6_K → Q8_0; output/tied embedding → Q8_0 directly).</item>
/// </list>
/// </summary>
public sealed class TensorTypeChooser(GgufFileType fileType, int layerCount, bool hasOutputTensor)
{
    public GgmlType Choose(string ggufName, long[] shape)
    {
        if (shape.Length < 2 || ggufName.EndsWith("_norm.weight", StringComparison.Ordinal)) return GgmlType.F32;
        long rowLength = shape[^1];
        switch (fileType)
        {
            case GgufFileType.F32: return GgmlType.F32;
            case GgufFileType.F16: return GgmlType.F16;
            case GgufFileType.BF16: return GgmlType.BF16;
            case GgufFileType.Q8_0: return rowLength % 32 == 0 ? GgmlType.Q8_0 : GgmlType.F16;
        }
        // Q4_K_M
        bool isOutput = ggufName == "output.weight" || (!hasOutputTensor && ggufName == "token_embd.weight");
        if (isOutput) return rowLength % 256 == 0 ? GgmlType.Q6_K : GgmlType.Q8_0;
        var type = GgmlType.Q4_K;
        int? layer = LayerOf(ggufName);
        if (layer is { } i && (ggufName.EndsWith(".attn_v.weight", StringComparison.Ordinal) || ggufName.EndsWith(".ffn_down.weight", StringComparison.Ordinal))
            && UseMoreBits(i, layerCount))
            type = GgmlType.Q6_K;
        // Phi-3's fused attn_qkv (llama-quant's ATTENTION_QKV category): Q5_K in Q4_K_M.
        if (ggufName.EndsWith(".attn_qkv.weight", StringComparison.Ordinal)) type = GgmlType.Q5_K;
        if (rowLength % 256 != 0)
            type = type switch { GgmlType.Q6_K => GgmlType.Q8_0, GgmlType.Q5_K => GgmlType.Q5_1, _ => GgmlType.Q5_0 };
        if (rowLength % 32 != 0) type = GgmlType.F16;
        return type;
    }

    /// <summary>llama-quant.cpp's use_more_bits(i_layer, n_layers).</summary>
    public static bool UseMoreBits(int layer, int layers) =>
        layer < layers / 8 || layer >= 7 * layers / 8 || (layer - layers / 8) % 3 == 2;

    static int? LayerOf(string name)
    {
        if (!name.StartsWith("blk.", StringComparison.Ordinal)) return null;
        int end = name.IndexOf('.', 4);
        return int.Parse(name.AsSpan(4, end - 4));
    }
}

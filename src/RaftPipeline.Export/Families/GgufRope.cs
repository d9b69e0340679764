using RaftPipeline.Export.Gguf;
using RaftPipeline.Export.Source;

namespace RaftPipeline.Export.Families;

/// <summary>
/// RoPE scaling as llama.cpp reads it (llama-model.cpp's common hyper-parameters; convert_hf_to_gguf's rope
/// handling), for the types a family allows (<see cref="GgufFamily.RopeScalings"/>):
/// <list type="bullet">
/// <item><c>linear</c>: {arch}.rope.scaling.type = linear and .factor; llama.cpp rotates by position / factor.</item>
/// <item><c>yarn</c>: type yarn, .factor and .original_context_length; llama.cpp's ggml_rope_yarn blends the
/// interpolated and extrapolated frequencies over the same correction range transformers computes (floor/ceil of the
/// dimensions for beta_fast 32 and beta_slow 1) and scales cos/sin by 1 + 0.1·ln(factor), transformers' default
/// attention factor. Other betas, an explicit attention_factor/mscale, or truncate = false have no key the llama
/// graph reads, so they are refused.</item>
/// <item><c>llama3</c>: no scaling keys; the converter writes the per-frequency divisors as the F32 tensor
/// <c>rope_freqs.weight</c> [head_dim / 2], which llama.cpp's llama graph passes to ggml_rope_ext as freq_factors
/// (θ_i / f_i): 1 for short wavelengths, factor for long ones, the smooth blend between.</item>
/// </list>
/// <c>dynamic</c> (NTK) is refused: llama.cpp has no dynamic RoPE; it would rotate with the default frequencies,
/// which differ from transformers' as soon as a sequence passes max_position_embeddings.
/// </summary>
public static class GgufRope
{
    public static string WhyNot(string ropeType) => ropeType switch
    {
        "dynamic" => ": llama.cpp has no dynamic-NTK RoPE; it would rotate with the default frequencies, which differ from " +
            "transformers' once a sequence passes max_position_embeddings",
        _ => "",
    };

    /// <summary>Refuses parameters llama.cpp cannot reproduce for the scaling type.</summary>
    public static void Check(ExportModelConfig config, ConfigJson r)
    {
        var rope = config.Rope;
        if (rope.Type == "yarn")
        {
            if (rope.BetaFast is { } bf && bf != 32) throw r.Error("rope_parameters.beta_fast", $"{bf} cannot be exported (llama.cpp's {config.Family.Architecture} graph uses 32)");
            if (rope.BetaSlow is { } bs && bs != 1) throw r.Error("rope_parameters.beta_slow", $"{bs} cannot be exported (llama.cpp's {config.Family.Architecture} graph uses 1)");
            if (rope.AttentionFactor is not null || rope.Mscale is not null || rope.MscaleAllDim is not null)
                throw r.Error("rope_parameters.attention_factor", "(or mscale) cannot be exported: llama.cpp scales by 1 + 0.1·ln(factor) only");
            if (rope.Truncate == false) throw r.Error("rope_parameters.truncate", "false cannot be exported (llama.cpp rounds the ramp bounds)");
        }
        if (rope.Type == "llama3" && (rope.LowFreqFactor is null || rope.HighFreqFactor is null || rope.OriginalMaxPositionEmbeddings is null))
            throw r.Error("rope_parameters", "llama3 RoPE needs low_freq_factor, high_freq_factor and original_max_position_embeddings");
    }

    public static IEnumerable<KeyValuePair<string, GgufValue>> Metadata(string arch, ExportModelConfig config)
    {
        var rope = config.Rope;
        switch (rope.Type)
        {
            case "linear":
                yield return new($"{arch}.rope.scaling.type", GgufValue.Str("linear"));
                yield return new($"{arch}.rope.scaling.factor", GgufValue.F32((float)rope.Factor));
                break;
            case "yarn":
                yield return new($"{arch}.rope.scaling.type", GgufValue.Str("yarn"));
                yield return new($"{arch}.rope.scaling.factor", GgufValue.F32((float)rope.Factor));
                yield return new($"{arch}.rope.scaling.original_context_length",
                    GgufValue.U32((uint)(rope.OriginalMaxPositionEmbeddings ?? config.MaxPositionEmbeddings)));
                break;
        }
    }

    /// <summary>llama3: rope_freqs.weight, the divisor of each of the head_dim / 2 frequencies (transformers'
    /// _compute_llama3_parameters, as convert_hf_to_gguf writes it).</summary>
    public static float[]? FrequencyFactors(ExportModelConfig config)
    {
        var rope = config.Rope;
        if (rope.Type != "llama3") return null;
        int dim = config.HeadDim;
        double factor = rope.Factor, low = rope.LowFreqFactor!.Value, high = rope.HighFreqFactor!.Value;
        double old = rope.OriginalMaxPositionEmbeddings!.Value;
        double lowWavelen = old / low, highWavelen = old / high;
        var factors = new float[dim / 2];
        for (int i = 0; i < dim / 2; i++)
        {
            // transformers computes the inverse frequencies in fp32.
            double freq = 1.0 / Math.Pow(rope.Theta, (float)(2 * i) / dim);
            double wavelen = 2 * Math.PI / freq;
            if (wavelen < highWavelen) factors[i] = 1;
            else if (wavelen > lowWavelen) factors[i] = (float)factor;
            else
            {
                double smooth = (old / wavelen - low) / (high - low);
                factors[i] = (float)(1 / ((1 - smooth) / factor + smooth));
            }
        }
        return factors;
    }
}

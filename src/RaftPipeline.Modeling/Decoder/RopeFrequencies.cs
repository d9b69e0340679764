using RaftPipeline.Modeling.Config;
using TorchSharp;
using static TorchSharp.torch;

namespace RaftPipeline.Modeling.Decoder;

/// <summary>
/// RoPE's inverse frequencies and cos/sin scale for each RoPE type, as transformers' modeling_rope_utils computes
/// them (fp32 tensor ops in the same order, so the angles agree to the last bit where transformers' do).
/// </summary>
public static class RopeFrequencies
{
    /// <summary>1 / θ^(arange(0, dim, 2) / dim) in fp32 on the CPU: the default RoPE.</summary>
    public static Tensor Default(int dim, double theta)
    {
        using var scope = torch.NewDisposeScope();
        // The same fp32 ops transformers runs: int64 arange → fp32, divide by dim, θ ** that, reciprocal.
        var exponent = torch.arange(0, dim, 2, ScalarType.Int64).to(ScalarType.Float32) / dim;
        var basis = torch.full(exponent.shape, theta, ScalarType.Float32);
        return (1.0 / basis.pow(exponent)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// inv_freq [dim / 2] fp32 and the cos/sin scale for <paramref name="scaling"/> (null: default). For dynamic and
    /// longrope, <paramref name="seqLen"/> is the longest position + 1 of the current call (transformers'
    /// dynamic_rope_update); null means a call within the original context.
    /// </summary>
    public static (Tensor InvFreq, double AttentionScaling) Compute(int dim, double theta, RopeScaling? scaling,
        int maxPositionEmbeddings, long? seqLen = null)
    {
        if (scaling is null) return (Default(dim, theta), 1.0);
        using var scope = torch.NewDisposeScope();
        (Tensor inv, double att) = scaling.Type switch
        {
            // Scaling the positions by 1/factor is the same as scaling inv_freq.
            "linear" => (Default(dim, theta) / scaling.Factor, 1.0),
            "dynamic" => (Dynamic(dim, theta, scaling, maxPositionEmbeddings, seqLen), 1.0),
            "llama3" => (Llama3(dim, theta, scaling), 1.0),
            "yarn" => Yarn(dim, theta, scaling, maxPositionEmbeddings),
            "longrope" => LongRope(dim, theta, scaling, seqLen),
            _ => throw new InvalidOperationException($"RoPE type '{scaling.Type}' has no implementation"),
        };
        return (inv.MoveToOuterDisposeScope(), att);
    }

    /// <summary>NTK: θ' = θ · (factor · L / L₀ − (factor − 1))^(dim / (dim − 2)) once the sequence L exceeds L₀.</summary>
    static Tensor Dynamic(int dim, double theta, RopeScaling s, int maxPositionEmbeddings, long? seqLen)
    {
        double original = maxPositionEmbeddings;
        double len = seqLen is long l && l > original ? l : original;
        double based = theta * Math.Pow(s.Factor * len / original - (s.Factor - 1), dim / (double)(dim - 2));
        return Default(dim, based);
    }

    /// <summary>
    /// Llama 3.x: wavelengths 2π/f longer than L₀/low_freq_factor are divided by factor, shorter than
    /// L₀/high_freq_factor kept, and the band between blended by smooth = (L₀/λ − low) / (high − low).
    /// </summary>
    static Tensor Llama3(int dim, double theta, RopeScaling s)
    {
        using var scope = torch.NewDisposeScope();
        var inv = Default(dim, theta);
        double factor = s.Factor, low = s.LowFreqFactor!.Value, high = s.HighFreqFactor!.Value;
        double oldContext = s.OriginalMaxPositionEmbeddings!.Value;
        double lowWavelen = oldContext / low, highWavelen = oldContext / high;
        var wavelen = 2 * Math.PI / inv;
        var scaled = torch.where(wavelen > lowWavelen, inv / factor, inv);
        var smooth = (oldContext / wavelen - low) / (high - low);
        var smoothed = (1 - smooth) * scaled / factor + smooth * scaled;
        var medium = wavelen.ge(highWavelen).logical_and(wavelen.le(lowWavelen));
        return torch.where(medium, smoothed, scaled).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// LongRoPE (modeling_rope_utils._compute_longrope_parameters): inv_freq = 1 / (ext · θ^(i/d)), ext the long factors
    /// once the sequence passes original_max_position_embeddings, else the short ones; cos and sin scaled by the
    /// attention factor, √(1 + ln(factor) / ln(original)) unless given (1 when factor ≤ 1), for both.
    /// </summary>
    static (Tensor, double) LongRope(int dim, double theta, RopeScaling s, long? seqLen)
    {
        using var scope = torch.NewDisposeScope();
        int original = s.OriginalMaxPositionEmbeddings!.Value;
        double attention = s.AttentionFactor ?? (s.Factor <= 1 ? 1.0 : Math.Sqrt(1 + Math.Log(s.Factor) / Math.Log(original)));
        var factors = seqLen is long l && l > original ? s.LongFactor! : s.ShortFactor!;
        var ext = torch.tensor(factors.Select(f => (float)f).ToArray(), ScalarType.Float32);
        // The same fp32 ops as transformers: θ ** (arange / dim), times the factors, reciprocal.
        var exponent = torch.arange(0, dim, 2, ScalarType.Int64).to(ScalarType.Float32) / dim;
        var powers = torch.full(exponent.shape, theta, ScalarType.Float32).pow(exponent);
        return ((1.0 / (ext * powers)).MoveToOuterDisposeScope(), attention);
    }

    /// <summary>
    /// YaRN: a linear ramp over the dimensions between the correction range of beta_fast and beta_slow rotations over
    /// the original context blends extrapolated (1/θ^(i/d)) and interpolated (1/(factor·θ^(i/d))) frequencies; cos and
    /// sin are scaled by the attention factor (0.1·ln(factor) + 1 unless given).
    /// </summary>
    static (Tensor, double) Yarn(int dim, double theta, RopeScaling s, int maxPositionEmbeddings)
    {
        using var scope = torch.NewDisposeScope();
        double factor = s.Factor;
        double original = s.OriginalMaxPositionEmbeddings ?? maxPositionEmbeddings;
        static double MscaleOf(double scale, double m) => scale <= 1 ? 1.0 : 0.1 * m * Math.Log(scale) + 1.0;
        double attention = s.AttentionFactor ?? (s.Mscale is double ms && s.MscaleAllDim is double msa && ms != 0 && msa != 0
            ? MscaleOf(factor, ms) / MscaleOf(factor, msa)
            : MscaleOf(factor, 1.0));
        double betaFast = s.BetaFast is double bf && bf != 0 ? bf : 32;
        double betaSlow = s.BetaSlow is double bs && bs != 0 ? bs : 1;
        double CorrectionDim(double rotations) => dim * Math.Log(original / (rotations * 2 * Math.PI)) / (2 * Math.Log(theta));
        double lowDim = CorrectionDim(betaFast), highDim = CorrectionDim(betaSlow);
        if (s.Truncate ?? true)
        {
            lowDim = Math.Floor(lowDim);
            highDim = Math.Ceiling(highDim);
        }
        lowDim = Math.Max(lowDim, 0);
        highDim = Math.Min(highDim, dim - 1);
        if (lowDim == highDim) highDim += 0.001; // transformers' guard against a zero-width ramp

        var posFreqs = torch.full([dim / 2], theta, ScalarType.Float32)
            .pow(torch.arange(0, dim, 2, ScalarType.Int64).to(ScalarType.Float32) / dim);
        var extrapolation = 1.0 / posFreqs;
        var interpolation = 1.0 / (factor * posFreqs);
        var ramp = ((torch.arange(dim / 2, ScalarType.Float32) - lowDim) / (highDim - lowDim)).clamp(0, 1);
        var extrapolationFactor = 1 - ramp;
        var inv = interpolation * (1 - extrapolationFactor) + extrapolation * extrapolationFactor;
        return (inv.MoveToOuterDisposeScope(), attention);
    }
}

using TorchSharp;
using static TorchSharp.torch;

namespace RaftPipeline.Modeling.Quantization;

/// <summary>
/// bitsandbytes' signed 8-bit "dynamic" code (functional.py create_dynamic_map(signed=True, max_exponent_bits=7,
/// total_bits=8)), used to double-quantize the NF4 absmax statistics. Built with the same torch operations in the
/// same order (fp32 linspace, fp32 midpoints, times a power of ten) so every value matches bit for bit.
/// </summary>
public static class DynamicMap
{
    /// <summary>The 256 sorted fp32 values on the CPU; the caller owns the tensor.</summary>
    public static Tensor CreateSigned()
    {
        const int maxExponentBits = 7, totalBits = 8;
        const int nonSignBits = totalBits - 1;
        // 2^(7-7) - 1 = 0: with these arguments no extra all-zero-exponent items exist.
        const int additionalItems = (1 << (nonSignBits - maxExponentBits)) - 1;
        using var scope = NewDisposeScope();
        var parts = new List<Tensor>();
        for (int i = 0; i < maxExponentBits; i++)
        {
            long fractionItems = (1L << (i + nonSignBits - maxExponentBits)) + 1;
            var boundaries = torch.linspace(0.1, 1, fractionItems, dtype: ScalarType.Float32);
            var means = (boundaries[..^1] + boundaries[1..]) / 2.0;
            // Python's 10 ** (-(7 - 1) + i) is an int for i = 6 and a float below; both reach torch as a scalar.
            double scale = Math.Pow(10, -(maxExponentBits - 1) + i);
            parts.Add(means * scale);
            parts.Add(means * -scale);
        }
        if (additionalItems > 0) throw new InvalidOperationException("unreachable with the signed 8-bit defaults");
        parts.Add(torch.tensor(new float[] { 0f, 1f }));
        var data = torch.cat(parts, 0);
        if (data.shape[0] != 1 << totalBits)
            throw new InvalidOperationException($"dynamic map has {data.shape[0]} values, expected 256");
        var (sorted, _) = torch.sort(data);
        return sorted.MoveToOuterDisposeScope();
    }
}

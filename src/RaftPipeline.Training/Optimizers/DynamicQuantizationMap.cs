using static TorchSharp.torch;

namespace RaftPipeline.Training.Optimizers;

/// <summary>
/// bitsandbytes' "dynamic" 8-bit code (Dettmers, 8-Bit Approximations for Parallelism in Deep Learning), as
/// <c>bitsandbytes.functional.create_dynamic_map(signed, max_exponent_bits=7, total_bits=8)</c> builds it: for each
/// exponent i in 0..6, the midpoints of an fp32 linspace(0.1, 1) grid with 2^(i+sign-adjusted bits)+1 points, scaled
/// by 10^(i−6) (and negated for the signed map), plus 0 and 1, sorted, stored as fp32. The signed map codes Adam's
/// first moment, the unsigned one its (non-negative) second moment (optimizer.py fill_qmap: "dynamic"/"udynamic").
/// </summary>
public static class DynamicQuantizationMap
{
    public static float[] Create(bool signed, int maxExponentBits = 7, int totalBits = 8)
    {
        var data = new List<double>();
        int nonSignBits = totalBits - 1;
        int additionalItems = (1 << (nonSignBits - maxExponentBits)) - 1;
        int i = 0;
        for (i = 0; i < maxExponentBits; i++)
        {
            int fractionItems = signed
                ? (1 << (i + nonSignBits - maxExponentBits)) + 1
                : (1 << (i + nonSignBits - maxExponentBits + 1)) + 1;
            AddMeans(data, fractionItems, Math.Pow(10, -(maxExponentBits - 1) + i), signed);
        }
        if (additionalItems > 0)
            AddMeans(data, additionalItems + 1, Math.Pow(10, -(maxExponentBits - 1) + (i - 1)), signed);
        data.Add(0);
        data.Add(1.0);
        if (data.Count != 1 << totalBits)
            throw new InvalidOperationException($"dynamic map has {data.Count} values, expected {1 << totalBits}");
        var result = data.Select(v => (float)v).ToList();
        while (result.Count < 256) result.Add(0f);
        result.Sort();
        return result.ToArray();
    }

    static void AddMeans(List<double> data, int points, double scale, bool signed)
    {
        // torch.linspace(0.1, 1, points, dtype=float32), midpoints in fp32, then .tolist() (to double) × 10^k.
        using var boundaries = linspace(0.1, 1, points, dtype: ScalarType.Float32);
        using var means = (boundaries[..^1] + boundaries[1..]) / 2.0f;
        var m = means.data<float>().ToArray();
        foreach (var v in m) data.Add(scale * v);
        if (signed) foreach (var v in m) data.Add(-scale * v);
    }
}

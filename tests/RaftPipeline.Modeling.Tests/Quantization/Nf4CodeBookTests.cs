using RaftPipeline.Modeling.Native;
using RaftPipeline.Modeling.Quantization;
using TorchSharp;
using static TorchSharp.torch;

namespace RaftPipeline.Modeling.Tests.Quantization;

public class Nf4CodeBookTests
{
    [Fact]
    public void Kernel_thresholds_are_the_code_midpoints_within_one_fp32_ulp()
    {
        // Each exact midpoint of two fp32 codes is a tie between two fp32 values. torch's fp32 arithmetic rounds
        // the tie to even; the kernel's decimal literals (parsed by nvcc, as by C#, with correct rounding) land
        // on the other neighbour at four places. Pin exactly where, so a typo in a literal cannot hide.
        var kernel = Nf4CodeBook.Thresholds();
        var midpoints = Nf4CodeBook.Fp32Midpoints();
        var differing = new List<int>();
        for (int i = 0; i < 15; i++)
        {
            int ulps = Math.Abs(BitConverter.SingleToInt32Bits(kernel[i]) - BitConverter.SingleToInt32Bits(midpoints[i]));
            Assert.InRange(ulps, 0, 1);
            if (ulps == 1) differing.Add(i);
        }
        Assert.Equal(new[] { 0, 8, 12, 14 }, differing);
    }

    [Fact]
    public void Code_book_is_sorted_symmetric_at_the_ends_and_has_an_exact_zero()
    {
        var v = Nf4CodeBook.Values;
        Assert.Equal(16, v.Count);
        for (int i = 1; i < 16; i++) Assert.True(v[i] > v[i - 1]);
        Assert.Equal(-1f, v[0]);
        Assert.Equal(0f, v[7]);
        Assert.Equal(1f, v[15]);
    }

    [Fact]
    public void Dynamic_map_matches_values_derived_by_hand_from_create_dynamic_map()
    {
        TorchRuntime.EnsureInitialized();
        using var map = DynamicMap.CreateSigned();
        var v = map.data<float>().ToArray();
        Assert.Equal(256, v.Length);
        for (int i = 1; i < 256; i++) Assert.True(v[i] >= v[i - 1]);
        // 127 negatives, then the appended 0, 127 positives, then the appended 1.0.
        Assert.Equal(0f, v[127]);
        Assert.Equal(1f, v[255]);
        // i = 0: linspace(0.1, 1, 2) -> mean 0.55, times 1e-6.
        Assert.Equal(5.5e-7f, v[128], 1e-13f);
        // i = 1: linspace(0.1, 1, 3) = [0.1, 0.55, 1] -> means 0.325, 0.775, times 1e-5.
        Assert.Equal(3.25e-6f, v[129], 1e-12f);
        Assert.Equal(7.75e-6f, v[130], 1e-12f);
        // i = 2: linspace(0.1, 1, 5) -> first mean 0.2125, times 1e-4.
        Assert.Equal(2.125e-5f, v[131], 1e-11f);
        // i = 6: linspace(0.1, 1, 65) -> last mean (0.9859375 + 1) / 2, times 1; mirrored for the most negative value.
        Assert.Equal(0.99296875f, v[254], 1e-6f);
        Assert.Equal(-0.99296875f, v[0], 1e-6f);
        for (int i = 0; i < 127; i++) Assert.Equal(-v[254 - i], v[i]);
    }
}

using RaftPipeline.Modeling.Native;
using RaftPipeline.Modeling.Quantization;
using TorchSharp;
using static TorchSharp.torch;

namespace RaftPipeline.Modeling.Tests.Quantization;

public class Nf4QuantizerTests
{
    public Nf4QuantizerTests() => TorchRuntime.EnsureInitialized();

    static Tensor Gaussian(long rows, long cols, int seed, ScalarType dtype = ScalarType.BFloat16)
    {
        var g = new torch.Generator((ulong)seed);
        return (torch.randn(new[] { rows, cols }, generator: g) * 0.02).to(dtype);
    }

    [Fact]
    public void Codes_pack_first_element_into_the_high_nibble_and_ties_take_the_lower_code()
    {
        using var scope = NewDisposeScope();
        var w = torch.zeros(1, 64, ScalarType.Float32);
        w[0, 0] = 2.0f;    // absmax -> 1.0 -> code 15
        w[0, 1] = -2.0f;   // -1.0 -> code 0
        // Exactly on the threshold between codes 7 and 8 (x * (1/2) is exact): not greater, so code 7.
        w[0, 2] = 2 * Nf4CodeBook.Thresholds()[7];
        // The next fp32 above it: code 8.
        w[0, 3] = 2 * MathF.BitIncrement(Nf4CodeBook.Thresholds()[7]);
        w[0, 4] = 2 * -0.5250730514526367f;  // exactly code 2
        var q = Nf4Quantizer.Quantize(w, doubleQuant: false);
        var bytes = q.Packed.data<byte>().ToArray();
        Assert.Equal(new long[] { 32, 1 }, q.Packed.shape);
        Assert.Equal(0xF0, bytes[0]);
        Assert.Equal(0x78, bytes[1]);
        Assert.Equal(0x27, bytes[2]);
        Assert.All(bytes[3..], b => Assert.Equal(0x77, b));
        Assert.Equal(new[] { 2.0f }, q.Absmax.data<float>().ToArray());
    }

    [Fact]
    public void An_all_zero_block_dequantizes_to_zeros_and_an_odd_tail_is_padded()
    {
        using var scope = NewDisposeScope();
        var w = torch.zeros(3, 43, ScalarType.Float32);  // 129 values: two full blocks and a block of one
        w[2, 42] = -0.5f;
        var q = Nf4Quantizer.Quantize(w, doubleQuant: true);
        Assert.Equal(new long[] { 65, 1 }, q.Packed.shape);
        Assert.Equal(3, q.Absmax.shape[0]);
        var back = Nf4Quantizer.Dequantize(q, ScalarType.Float32);
        Assert.Equal(new long[] { 3, 43 }, back.shape);
        var values = back.data<float>().ToArray();
        Assert.All(values[..^1], v => Assert.Equal(0f, v));
        Assert.Equal(-0.5f, values[^1], 1e-3f);  // only double-quantization error on the absmax
    }

    [Fact]
    public void Every_element_error_is_within_half_the_widest_code_gap_times_its_block_scale()
    {
        using var scope = NewDisposeScope();
        var w = Gaussian(384, 512, seed: 7);
        var q = Nf4Quantizer.Quantize(w);
        var trueAbsmax = w.to(ScalarType.Float32).reshape(-1, 64).abs().amax(new long[] { 1 });
        var absmax = Nf4Quantizer.DequantizeAbsmax(q);
        // Value error: |x/absmax - code| <= half the widest NF4 gap (-1.0 -> -0.6962), i.e. 0.1519 * absmax; the
        // double-quantized scale adds |absmax' - absmax| * |code| <= |absmax' - absmax|.
        var codes = Nf4CodeBook.Values;
        double halfGap = Enumerable.Range(0, 15).Max(i => codes[i + 1] - codes[i]) / 2.0;
        Assert.Equal(0.15190, halfGap, 4);  // the -1.0 -> -0.6962 gap is the widest
        var bound = trueAbsmax * halfGap + (absmax - trueAbsmax).abs() + 1e-7;
        var err = (Nf4Quantizer.Dequantize(q, ScalarType.Float32) - w.to(ScalarType.Float32)).abs().reshape(-1, 64);
        Assert.True((err <= bound.unsqueeze(1)).all().item<bool>(), "an element exceeds its NF4 error bound");
        // Relative RMS error on Gaussian weights: NF4 is built for N(0, 1) and lands near 0.1; a broken packing or
        // a wrong table gives O(1), no quantization at all gives 0.
        var rel = ((err.pow(2).mean().sqrt()) / w.to(ScalarType.Float32).pow(2).mean().sqrt()).item<float>();
        Assert.InRange(rel, 0.05f, 0.12f);
    }

    [Fact]
    public void Double_quantized_absmax_is_within_half_a_dynamic_map_gap_of_its_nested_scale()
    {
        using var scope = NewDisposeScope();
        var w = Gaussian(1024, 64 * 5, seed: 11);  // 5120 blocks: 20 nested blocks of 256
        var q = Nf4Quantizer.Quantize(w);
        Assert.Equal(ScalarType.Byte, q.Absmax.dtype);
        Assert.Equal(20, q.NestedAbsmax!.shape[0]);
        var trueAbsmax = w.to(ScalarType.Float32).reshape(-1, 64).abs().amax(new long[] { 1 });
        Assert.Equal(trueAbsmax.mean().item<float>(), q.NestedOffset, 1e-7f);
        var map = q.NestedQuantMap!;
        double maxHalfGap = ((map[1..] - map[..^1]).max().item<float>()) / 2.0;
        var err = (Nf4Quantizer.DequantizeAbsmax(q) - trueAbsmax).abs().reshape(20, 256);
        var bound = q.NestedAbsmax.unsqueeze(1) * maxHalfGap + 1e-7;
        Assert.True((err <= bound).all().item<bool>());
    }

    [Fact]
    public void Bytes_per_parameter_including_statistics_is_about_0_516()
    {
        using var scope = NewDisposeScope();
        long rows = 1024, cols = 2560;   // one Qwen3-4B row block: same ratio as the full [9728, 2560] matrices
        var q = Nf4Quantizer.Quantize(Gaussian(rows, cols, seed: 3));
        long n = rows * cols, blocks = n / 64;
        // codes n/2 + uint8 absmax per 64 + fp32 nested absmax per 256 blocks + 16 and 256 fp32 maps + fp32 offset.
        long expected = n / 2 + blocks + 4 * ((blocks + 255) / 256) + 4 * 16 + 4 * 256 + 4;
        Assert.Equal(expected, q.StorageBytes);
        double perParam = (double)q.StorageBytes / n;
        Assert.InRange(perParam, 0.5158, 0.5163);   // 0.5 + 1/64 + 4/(64*256) + constant maps
    }

    [Fact]
    public void Dequantization_casts_from_fp32_products_to_the_requested_dtype()
    {
        using var scope = NewDisposeScope();
        var q = Nf4Quantizer.Quantize(Gaussian(64, 128, seed: 5));
        var f32 = Nf4Quantizer.Dequantize(q, ScalarType.Float32);
        var bf16 = Nf4Quantizer.Dequantize(q, ScalarType.BFloat16);
        Assert.Equal(ScalarType.BFloat16, bf16.dtype);
        Assert.True(f32.to(ScalarType.BFloat16).eq(bf16).all().item<bool>());
    }
}

using static TorchSharp.torch;

namespace RaftPipeline.Training.Optimizers;

/// <summary>
/// Blockwise 8-bit quantization of an fp32 tensor against a sorted 256-value code, as bitsandbytes'
/// <c>quantize_blockwise</c> / <c>dequantize_blockwise</c> (default/CPU backends): the flat tensor is cut into blocks
/// of <see cref="BlockSize"/> values (the last one may be shorter), each scaled by 1/absmax (absmax clamped at 1e-38)
/// and clamped to [−1, 1], and each value stored as the index of the nearest code (bucketize on the midpoints).
/// Block size 256 is what bitsandbytes' 8-bit optimizers use since PR #1586 (2025; it was 2048 before).
/// </summary>
public static class BlockwiseQuantizer
{
    public const int BlockSize = 256;

    /// <summary>Quantizes <paramref name="values"/> into <paramref name="codes"/> (uint8) and <paramref name="absmax"/> (fp32, one per block).</summary>
    public static void Quantize(Tensor values, Tensor code, Tensor codes, Tensor absmax)
    {
        using var scope = NewDisposeScope();
        var flat = values.reshape(-1).to(ScalarType.Float32);
        long n = flat.shape[0];
        long full = n - n % BlockSize;
        var scaledParts = new List<Tensor>(2);
        var absParts = new List<Tensor>(2);
        if (full > 0)
        {
            var blocks = flat[..(int)full].reshape(-1, BlockSize);
            var am = blocks.abs().amax([1]);
            absParts.Add(am);
            scaledParts.Add((blocks * (1.0f / am.clamp_min(1e-38)).unsqueeze(1)).clamp(-1, 1).reshape(-1));
        }
        if (full < n)
        {
            var tail = flat[(int)full..];
            var am = tail.abs().amax([0]).clamp_min(1e-38);
            absParts.Add(am.unsqueeze(0));
            scaledParts.Add((tail / am).clamp(-1, 1));
        }
        var scaled = cat(scaledParts, 0);
        var bounds = (code[..^1] + code[1..]) / 2;
        var q = bucketize(scaled, bounds, true, false).to(ScalarType.Byte);
        codes.copy_(q.reshape(codes.shape));
        absmax.copy_(cat(absParts, 0));
    }

    /// <summary>code[index] × absmax of the block, as fp32 in <paramref name="shape"/>.</summary>
    public static Tensor Dequantize(Tensor codes, Tensor absmax, Tensor code, long[] shape)
    {
        using var scope = NewDisposeScope();
        var flat = code.index_select(0, codes.reshape(-1).to(ScalarType.Int64));
        long n = flat.shape[0];
        var perValueAbsmax = absmax.repeat_interleave(BlockSize)[..(int)n];
        return (flat * perValueAbsmax).reshape(shape).MoveToOuterDisposeScope();
    }

    public static long Blocks(long numel) => (numel + BlockSize - 1) / BlockSize;
}

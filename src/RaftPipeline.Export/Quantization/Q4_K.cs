namespace RaftPipeline.Export.Quantization;

/// <summary>
/// ggml's Q4_K (quantize_row_q4_K_ref): super-blocks of 256 values = 8 sub-blocks of 32. Each sub-block gets an
/// asymmetric (scale, min) fit to 4-bit levels; the 8 scales and 8 mins are quantized to 6 bits against the
/// super-block's f16 d = max scale / 63 and dmin = max min / 63, packed into 12 bytes (get_scale_min_k4's layout),
/// and every value is requantized against its sub-block's decoded scale and min. Layout: d, dmin, scales[12],
/// qs[128] (values l and l + 32 of each 64 share a byte, low nibble first). 144 bytes. The fit and the header are
/// <see cref="KScaleMinBlock"/>'s, shared with Q5_K.
/// </summary>
public static class Q4_K
{
    public const int BlockSize = KQuantMath.QK_K;
    public const int BlockBytes = 144;

    public static byte[] Quantize(ReadOnlySpan<float> x)
    {
        if (x.Length % BlockSize != 0) throw new ArgumentException($"Q4_K needs a multiple of {BlockSize} values, got {x.Length}");
        var output = new byte[x.Length / BlockSize * BlockBytes];
        Span<byte> L = stackalloc byte[BlockSize];
        for (int b = 0; b < x.Length / BlockSize; b++)
        {
            var xb = x.Slice(b * BlockSize, BlockSize);
            var y = output.AsSpan(b * BlockBytes, BlockBytes);
            var qs = y.Slice(16, 128);
            KScaleMinBlock.Fit(xb, y, L, 15, -1f, 20);
            for (int j = 0, q = 0; j < BlockSize; j += 64, q += 32)
                for (int l = 0; l < 32; l++) qs[q + l] = (byte)(L[j + l] | (L[j + l + 32] << 4));
        }
        return output;
    }
}

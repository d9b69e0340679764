namespace RaftPipeline.Export.Quantization;

/// <summary>
/// ggml's Q6_K (quantize_row_q6_K_ref): super-blocks of 256 values = 16 sub-blocks of 16, each with a symmetric
/// scale for 6-bit levels -32..31; the 16 scales are int8 against the super-block's f16 d = -max scale / 128.
/// Layout: ql[128] (low nibbles), qh[64] (high 2 bits), scales[16], d. 210 bytes.
/// </summary>
public static class Q6_K
{
    public const int BlockSize = KQuantMath.QK_K;
    public const int BlockBytes = 210;

    public static byte[] Quantize(ReadOnlySpan<float> x)
    {
        if (x.Length % BlockSize != 0) throw new ArgumentException($"Q6_K needs a multiple of {BlockSize} values, got {x.Length}");
        var output = new byte[x.Length / BlockSize * BlockBytes];
        Span<sbyte> L = stackalloc sbyte[BlockSize];
        Span<float> scales = stackalloc float[16];
        for (int b = 0; b < x.Length / BlockSize; b++)
        {
            var xb = x.Slice(b * BlockSize, BlockSize);
            var y = output.AsSpan(b * BlockBytes, BlockBytes);
            var ql = y[..128];
            var qh = y.Slice(128, 64);
            var sc = y.Slice(192, 16);
            float maxScale = 0, maxAbsScale = 0;
            for (int ib = 0; ib < 16; ib++)
            {
                float scale = KQuantMath.MakeQxQuants(16, 32, xb.Slice(16 * ib, 16), L.Slice(16 * ib, 16));
                scales[ib] = scale;
                if (MathF.Abs(scale) > maxAbsScale)
                {
                    maxAbsScale = MathF.Abs(scale);
                    maxScale = scale;
                }
            }
            if (maxAbsScale < 1e-15f) continue; // an all-zero block: every byte 0, d = 0
            float iscale = -128f / maxScale;
            FloatFormats.WriteHalf(y[208..], 1 / iscale);
            float d = FloatFormats.RoundToF16(1 / iscale);
            for (int ib = 0; ib < 16; ib++) sc[ib] = (byte)(sbyte)Math.Min(127, KQuantMath.NearestInt(iscale * scales[ib]));
            for (int j = 0; j < 16; j++)
            {
                float dj = d * (sbyte)sc[j];
                if (dj == 0) continue;
                for (int ii = 0; ii < 16; ii++)
                {
                    int l = KQuantMath.NearestInt(xb[16 * j + ii] / dj);
                    L[16 * j + ii] = (sbyte)(Math.Max(-32, Math.Min(31, l)) + 32);
                }
            }
            for (int j = 0, o = 0, h = 0; j < BlockSize; j += 128, o += 64, h += 32)
            {
                for (int l = 0; l < 32; l++)
                {
                    int q1 = L[j + l] & 0xF, q2 = L[j + l + 32] & 0xF, q3 = L[j + l + 64] & 0xF, q4 = L[j + l + 96] & 0xF;
                    ql[o + l] = (byte)(q1 | (q3 << 4));
                    ql[o + l + 32] = (byte)(q2 | (q4 << 4));
                    qh[h + l] = (byte)((L[j + l] >> 4) | ((L[j + l + 32] >> 4) << 2) | ((L[j + l + 64] >> 4) << 4) | ((L[j + l + 96] >> 4) << 6));
                }
            }
        }
        return output;
    }
}

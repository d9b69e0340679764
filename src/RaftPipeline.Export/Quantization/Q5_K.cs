namespace RaftPipeline.Export.Quantization;

/// <summary>
/// ggml's Q5_K (quantize_row_q5_K_ref): Q4_K's super-block of 256 = 8 sub-blocks of 32 with 6-bit scales and mins
/// against f16 d and dmin (the same fit, make_qkx2_quants with 31 levels, rmin -0.5, delta 0.1, 15 steps, and the
/// same 12-byte packing), with 5-bit values: the low nibbles as in Q4_K (values l and l + 32 of each 64 share a byte),
/// the fifth bits in qh[32], two bits per 64 values (bit 2k for the first 32, 2k + 1 for the second). Layout: d, dmin,
/// scales[12], qh[32], qs[128]: 176 bytes. llama.cpp's Q4_K_M gives it to fused attn_qkv tensors (Phi-3).
/// </summary>
public static class Q5_K
{
    public const int BlockSize = KQuantMath.QK_K;
    public const int BlockBytes = 176;

    public static byte[] Quantize(ReadOnlySpan<float> x)
    {
        if (x.Length % BlockSize != 0) throw new ArgumentException($"Q5_K needs a multiple of {BlockSize} values, got {x.Length}");
        var output = new byte[x.Length / BlockSize * BlockBytes];
        Span<byte> L = stackalloc byte[BlockSize];
        Span<byte> Laux = stackalloc byte[32];
        Span<float> weights = stackalloc float[32];
        Span<float> mins = stackalloc float[8];
        Span<float> scales = stackalloc float[8];
        for (int b = 0; b < x.Length / BlockSize; b++)
        {
            var xb = x.Slice(b * BlockSize, BlockSize);
            var y = output.AsSpan(b * BlockBytes, BlockBytes);
            var sc = y.Slice(4, 12);
            var qh = y.Slice(16, 32);
            var qs = y.Slice(48, 128);
            float maxScale = 0, maxMin = 0;
            for (int j = 0; j < 8; j++)
            {
                var xs = xb.Slice(32 * j, 32);
                float sumX2 = 0;
                for (int l = 0; l < 32; l++) sumX2 += xs[l] * xs[l];
                float avX = MathF.Sqrt(sumX2 / 32);
                for (int l = 0; l < 32; l++) weights[l] = avX + MathF.Abs(xs[l]);
                scales[j] = KQuantMath.MakeQkx2Quants(32, 31, xs, weights, L.Slice(32 * j, 32), out mins[j], Laux, -0.5f, 0.1f, 15, false);
                if (scales[j] > maxScale) maxScale = scales[j];
                if (mins[j] > maxMin) maxMin = mins[j];
            }
            float invScale = maxScale > 0 ? 63f / maxScale : 0f;
            float invMin = maxMin > 0 ? 63f / maxMin : 0f;
            for (int j = 0; j < 8; j++)
            {
                int ls = Math.Min(63, (int)(byte)KQuantMath.NearestInt(invScale * scales[j]));
                int lm = Math.Min(63, (int)(byte)KQuantMath.NearestInt(invMin * mins[j]));
                if (j < 4)
                {
                    sc[j] = (byte)ls;
                    sc[j + 4] = (byte)lm;
                }
                else
                {
                    sc[j + 4] = (byte)((ls & 0xF) | ((lm & 0xF) << 4));
                    sc[j - 4] |= (byte)((ls >> 4) << 6);
                    sc[j] |= (byte)((lm >> 4) << 6);
                }
            }
            float d = FloatFormats.RoundToF16(maxScale / 63f);
            float dmin = FloatFormats.RoundToF16(maxMin / 63f);
            FloatFormats.WriteHalf(y, maxScale / 63f);
            FloatFormats.WriteHalf(y[2..], maxMin / 63f);
            for (int j = 0; j < 8; j++)
            {
                Q4_K.ScaleMin(j, sc, out int s, out int m);
                float dj = d * s;
                if (dj == 0) continue;
                float dm = dmin * m;
                for (int ii = 0; ii < 32; ii++)
                {
                    int l = KQuantMath.NearestInt((xb[32 * j + ii] + dm) / dj);
                    L[32 * j + ii] = (byte)Math.Max(0, Math.Min(31, l));
                }
            }
            qh.Clear();
            byte m1 = 1, m2 = 2;
            for (int n = 0, q = 0; n < BlockSize; n += 64, q += 32)
            {
                for (int j = 0; j < 32; j++)
                {
                    int l1 = L[n + j];
                    if (l1 > 15) { l1 -= 16; qh[j] |= m1; }
                    int l2 = L[n + j + 32];
                    if (l2 > 15) { l2 -= 16; qh[j] |= m2; }
                    qs[q + j] = (byte)(l1 | (l2 << 4));
                }
                m1 <<= 2;
                m2 <<= 2;
            }
        }
        return output;
    }
}

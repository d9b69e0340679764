namespace RaftPipeline.Export.Quantization;

/// <summary>
/// ggml's Q4_K (quantize_row_q4_K_ref): super-blocks of 256 values = 8 sub-blocks of 32. Each sub-block gets an
/// asymmetric (scale, min) fit to 4-bit levels; the 8 scales and 8 mins are quantized to 6 bits against the
/// super-block's f16 d = max scale / 63 and dmin = max min / 63, packed into 12 bytes (get_scale_min_k4's layout),
/// and every value is requantized against its sub-block's decoded scale and min. Layout: d, dmin, scales[12],
/// qs[128] (values l and l + 32 of each 64 share a byte, low nibble first). 144 bytes.
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
        Span<byte> Laux = stackalloc byte[32];
        Span<float> weights = stackalloc float[32];
        Span<float> mins = stackalloc float[8];
        Span<float> scales = stackalloc float[8];
        for (int b = 0; b < x.Length / BlockSize; b++)
        {
            var xb = x.Slice(b * BlockSize, BlockSize);
            var y = output.AsSpan(b * BlockBytes, BlockBytes);
            var sc = y.Slice(4, 12);
            var qs = y.Slice(16, 128);
            float maxScale = 0, maxMin = 0;
            for (int j = 0; j < 8; j++)
            {
                var xs = xb.Slice(32 * j, 32);
                float sumX2 = 0;
                for (int l = 0; l < 32; l++) sumX2 += xs[l] * xs[l];
                float avX = MathF.Sqrt(sumX2 / 32);
                for (int l = 0; l < 32; l++) weights[l] = avX + MathF.Abs(xs[l]);
                scales[j] = KQuantMath.MakeQkx2Quants(32, 15, xs, weights, L.Slice(32 * j, 32), out mins[j], Laux, -1f, 0.1f, 20, false);
                if (scales[j] > maxScale) maxScale = scales[j];
                if (mins[j] > maxMin) maxMin = mins[j];
            }
            float invScale = maxScale > 0 ? 63f / maxScale : 0f;
            float invMin = maxMin > 0 ? 63f / maxMin : 0f;
            for (int j = 0; j < 8; j++)
            {
                // uint8_t ls = nearest_int(...): the C conversion keeps the low 8 bits before MIN(63, ...).
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
                ScaleMin(j, sc, out int s, out int m);
                float dj = d * s;
                if (dj == 0) continue;
                float dm = dmin * m;
                for (int ii = 0; ii < 32; ii++)
                {
                    int l = KQuantMath.NearestInt((xb[32 * j + ii] + dm) / dj);
                    L[32 * j + ii] = (byte)Math.Max(0, Math.Min(15, l));
                }
            }
            for (int j = 0, q = 0; j < BlockSize; j += 64, q += 32)
                for (int l = 0; l < 32; l++) qs[q + l] = (byte)(L[j + l] | (L[j + l + 32] << 4));
        }
        return output;
    }

    /// <summary>get_scale_min_k4: the 6-bit scale and min of sub-block j from the 12 packed bytes.</summary>
    public static void ScaleMin(int j, ReadOnlySpan<byte> q, out int scale, out int min)
    {
        if (j < 4)
        {
            scale = q[j] & 63;
            min = q[j + 4] & 63;
        }
        else
        {
            scale = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
            min = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
        }
    }
}

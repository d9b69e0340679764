namespace RaftPipeline.Export.Quantization;

/// <summary>
/// The part Q4_K and Q5_K share (quantize_row_q4_K_ref / quantize_row_q5_K_ref): a super-block of 256 values as 8
/// sub-blocks of 32, each with an asymmetric (scale, min) fit (make_qkx2_quants); the 8 scales and 8 mins quantized to
/// 6 bits against the super-block's f16 d = max scale / 63 and dmin = max min / 63, packed into 12 bytes
/// (get_scale_min_k4's layout), and every value requantized against its sub-block's decoded scale and min. The two
/// formats differ in their level count and search settings and in how they pack the levels after this header.
/// </summary>
static class KScaleMinBlock
{
    /// <summary>Bytes of the header this writes: d, dmin (f16 each), scales[12].</summary>
    public const int HeaderBytes = 16;

    /// <summary>
    /// Fits one super-block <paramref name="xb"/>: writes d, dmin and the packed scales into
    /// <paramref name="header"/> and each value's level (0..<paramref name="maxLevel"/>) into <paramref name="levels"/>.
    /// </summary>
    public static void Fit(ReadOnlySpan<float> xb, Span<byte> header, Span<byte> levels, int maxLevel, float rmin, int nstep)
    {
        Span<byte> laux = stackalloc byte[32];
        Span<float> weights = stackalloc float[32];
        Span<float> mins = stackalloc float[8];
        Span<float> scales = stackalloc float[8];
        var sc = header.Slice(4, 12);
        sc.Clear();
        float maxScale = 0, maxMin = 0;
        for (int j = 0; j < 8; j++)
        {
            var xs = xb.Slice(32 * j, 32);
            float sumX2 = 0;
            for (int l = 0; l < 32; l++) sumX2 += xs[l] * xs[l];
            float avX = MathF.Sqrt(sumX2 / 32);
            for (int l = 0; l < 32; l++) weights[l] = avX + MathF.Abs(xs[l]);
            scales[j] = KQuantMath.MakeQkx2Quants(32, maxLevel, xs, weights, levels.Slice(32 * j, 32), out mins[j], laux, rmin, 0.1f, nstep, false);
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
        FloatFormats.WriteHalf(header, maxScale / 63f);
        FloatFormats.WriteHalf(header[2..], maxMin / 63f);
        for (int j = 0; j < 8; j++)
        {
            ScaleMin(j, sc, out int s, out int m);
            float dj = d * s;
            if (dj == 0) continue;
            float dm = dmin * m;
            for (int ii = 0; ii < 32; ii++)
            {
                int l = KQuantMath.NearestInt((xb[32 * j + ii] + dm) / dj);
                levels[32 * j + ii] = (byte)Math.Max(0, Math.Min(maxLevel, l));
            }
        }
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

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
        for (int b = 0; b < x.Length / BlockSize; b++)
        {
            var xb = x.Slice(b * BlockSize, BlockSize);
            var y = output.AsSpan(b * BlockBytes, BlockBytes);
            var qh = y.Slice(16, 32);
            var qs = y.Slice(48, 128);
            KScaleMinBlock.Fit(xb, y, L, 31, -0.5f, 15);
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

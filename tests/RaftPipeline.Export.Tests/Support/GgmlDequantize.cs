using System.Buffers.Binary;
using RaftPipeline.Export.Gguf;

namespace RaftPipeline.Export.Tests.Support;

/// <summary>
/// ggml's dequantizers (ggml-quants.c: dequantize_row_q8_0, _q5_0, _q5_1, _q4_K, _q5_K, _q6_K), written from the C source,
/// independently of our quantizers: what llama.cpp computes from the bytes we write.
/// </summary>
public static class GgmlDequantize
{
    public static float[] Run(GgmlType type, byte[] data, int count)
    {
        var y = new float[count];
        int blockBytes = GgmlTypes.BlockBytes(type), blockSize = GgmlTypes.BlockSize(type);
        for (int b = 0; b < count / blockSize; b++)
        {
            var x = data.AsSpan(b * blockBytes, blockBytes);
            var o = y.AsSpan(b * blockSize, blockSize);
            switch (type)
            {
                case GgmlType.Q8_0:
                    for (int j = 0; j < 32; j++) o[j] = (sbyte)x[2 + j] * Half(x);
                    break;
                case GgmlType.Q5_0:
                {
                    float d = Half(x);
                    uint qh = BinaryPrimitives.ReadUInt32LittleEndian(x[2..]);
                    for (int j = 0; j < 16; j++)
                    {
                        int xh0 = (int)((qh >> j) << 4) & 0x10;
                        int xh1 = (int)(qh >> (j + 12)) & 0x10;
                        o[j] = (((x[6 + j] & 0x0F) | xh0) - 16) * d;
                        o[j + 16] = (((x[6 + j] >> 4) | xh1) - 16) * d;
                    }
                    break;
                }
                case GgmlType.Q5_1:
                {
                    float d = Half(x), m = Half(x[2..]);
                    uint qh = BinaryPrimitives.ReadUInt32LittleEndian(x[4..]);
                    for (int j = 0; j < 16; j++)
                    {
                        int xh0 = (int)((qh >> j) << 4) & 0x10;
                        int xh1 = (int)(qh >> (j + 12)) & 0x10;
                        o[j] = ((x[8 + j] & 0x0F) | xh0) * d + m;
                        o[j + 16] = ((x[8 + j] >> 4) | xh1) * d + m;
                    }
                    break;
                }
                case GgmlType.Q5_K:
                {
                    float d = Half(x), min = Half(x[2..]);
                    var scales = x.Slice(4, 12);
                    var qh = x.Slice(16, 32);
                    var ql = x.Slice(48, 128);
                    int oi = 0, qi = 0, si = 0;
                    int u1 = 1, u2 = 2;
                    for (int j = 0; j < 256; j += 64, qi += 32, si += 2, u1 <<= 2, u2 <<= 2)
                    {
                        ScaleMin(si, scales, out int sc1, out int m1);
                        ScaleMin(si + 1, scales, out int sc2, out int m2);
                        for (int l = 0; l < 32; l++) o[oi++] = d * sc1 * ((ql[qi + l] & 0xF) + ((qh[l] & u1) != 0 ? 16 : 0)) - min * m1;
                        for (int l = 0; l < 32; l++) o[oi++] = d * sc2 * ((ql[qi + l] >> 4) + ((qh[l] & u2) != 0 ? 16 : 0)) - min * m2;
                    }
                    break;
                }
                case GgmlType.Q4_K:
                {
                    float d = Half(x), min = Half(x[2..]);
                    var scales = x.Slice(4, 12);
                    var q = x.Slice(16, 128);
                    int oi = 0, qi = 0, si = 0;
                    for (int j = 0; j < 256; j += 64, qi += 32, si += 2)
                    {
                        ScaleMin(si, scales, out int sc1, out int m1);
                        ScaleMin(si + 1, scales, out int sc2, out int m2);
                        for (int l = 0; l < 32; l++) o[oi++] = d * sc1 * (q[qi + l] & 0xF) - min * m1;
                        for (int l = 0; l < 32; l++) o[oi++] = d * sc2 * (q[qi + l] >> 4) - min * m2;
                    }
                    break;
                }
                case GgmlType.Q6_K:
                {
                    var ql = x[..128];
                    var qh = x.Slice(128, 64);
                    var sc = x.Slice(192, 16);
                    float d = Half(x[208..]);
                    for (int n = 0, yo = 0, lo = 0, ho = 0, so = 0; n < 256; n += 128, yo += 128, lo += 64, ho += 32, so += 8)
                        for (int l = 0; l < 32; l++)
                        {
                            int s = so + l / 16;
                            int q1 = ((ql[lo + l] & 0xF) | (((qh[ho + l] >> 0) & 3) << 4)) - 32;
                            int q2 = ((ql[lo + l + 32] & 0xF) | (((qh[ho + l] >> 2) & 3) << 4)) - 32;
                            int q3 = ((ql[lo + l] >> 4) | (((qh[ho + l] >> 4) & 3) << 4)) - 32;
                            int q4 = ((ql[lo + l + 32] >> 4) | (((qh[ho + l] >> 6) & 3) << 4)) - 32;
                            o[yo + l] = d * (sbyte)sc[s] * q1;
                            o[yo + l + 32] = d * (sbyte)sc[s + 2] * q2;
                            o[yo + l + 64] = d * (sbyte)sc[s + 4] * q3;
                            o[yo + l + 96] = d * (sbyte)sc[s + 6] * q4;
                        }
                    break;
                }
                case GgmlType.F16:
                    for (int j = 0; j < blockSize; j++) o[j] = Half(x);
                    break;
                default: throw new ArgumentOutOfRangeException(nameof(type));
            }
        }
        return y;
    }

    static float Half(ReadOnlySpan<byte> x) => (float)BinaryPrimitives.ReadHalfLittleEndian(x);

    static void ScaleMin(int j, ReadOnlySpan<byte> q, out int d, out int m)
    {
        if (j < 4) { d = q[j] & 63; m = q[j + 4] & 63; }
        else { d = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4); m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4); }
    }
}

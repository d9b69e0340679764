namespace RaftPipeline.Export.Quantization;

/// <summary>
/// ggml's Q5_1 (quantize_row_q5_1_ref): blocks of 32 values, an asymmetric 5-bit grid: d = (max - min) / 31 and the
/// block minimum m (both f16), q = trunc((x - min) / d + 0.5); low nibbles of values j and j + 16 share a byte, the
/// fifth bits go to a 32-bit mask. Layout: d, m, qh[4], qs[16]: 24 bytes. llama.cpp's quantizer falls back to it for a
/// Q5_K tensor whose rows are not a multiple of 256 values; we do the same.
/// </summary>
public static class Q5_1
{
    public const int BlockSize = 32;
    public const int BlockBytes = 24;

    public static byte[] Quantize(ReadOnlySpan<float> x)
    {
        if (x.Length % BlockSize != 0) throw new ArgumentException($"Q5_1 needs a multiple of {BlockSize} values, got {x.Length}");
        var output = new byte[x.Length / BlockSize * BlockBytes];
        for (int b = 0; b < x.Length / BlockSize; b++)
        {
            var block = x.Slice(b * BlockSize, BlockSize);
            var y = output.AsSpan(b * BlockBytes, BlockBytes);
            float min = float.MaxValue, max = float.MinValue;
            foreach (var v in block)
            {
                if (v < min) min = v;
                if (v > max) max = v;
            }
            float d = (max - min) / 31f;
            float id = d != 0 ? 1f / d : 0f;
            FloatFormats.WriteHalf(y, d);
            FloatFormats.WriteHalf(y[2..], min);
            uint qh = 0;
            for (int j = 0; j < BlockSize / 2; j++)
            {
                // (uint8_t)(x + 0.5f): x is never negative here.
                int xi0 = (byte)(int)((block[j] - min) * id + 0.5f);
                int xi1 = (byte)(int)((block[BlockSize / 2 + j] - min) * id + 0.5f);
                y[8 + j] = (byte)((xi0 & 0x0F) | ((xi1 & 0x0F) << 4));
                qh |= (uint)((xi0 & 0x10) >> 4) << j;
                qh |= (uint)((xi1 & 0x10) >> 4) << (j + BlockSize / 2);
            }
            BitConverter.TryWriteBytes(y.Slice(4, 4), qh);
        }
        return output;
    }
}

namespace RaftPipeline.Export.Quantization;

/// <summary>
/// ggml's Q5_0 (quantize_row_q5_0_ref): blocks of 32 values, d = max / -16 where max is the value of largest
/// magnitude (f16), 5-bit q = min(31, trunc(x / d + 16.5)); the low nibbles of values j and j + 16 share a byte, the
/// fifth bits go to a 32-bit mask. 22 bytes per block. llama.cpp's quantizer falls back to it for a Q4_K tensor whose
/// rows are not a multiple of 256 values; we do the same.
/// </summary>
public static class Q5_0
{
    public const int BlockSize = 32;
    public const int BlockBytes = 22;

    public static byte[] Quantize(ReadOnlySpan<float> x)
    {
        if (x.Length % BlockSize != 0) throw new ArgumentException($"Q5_0 needs a multiple of {BlockSize} values, got {x.Length}");
        var output = new byte[x.Length / BlockSize * BlockBytes];
        for (int b = 0; b < x.Length / BlockSize; b++)
        {
            var block = x.Slice(b * BlockSize, BlockSize);
            var y = output.AsSpan(b * BlockBytes, BlockBytes);
            float amax = 0, max = 0;
            for (int j = 0; j < BlockSize; j++)
            {
                float v = block[j];
                if (amax < MathF.Abs(v)) { amax = MathF.Abs(v); max = v; }
            }
            float d = max / -16f;
            float id = d != 0 ? 1f / d : 0f;
            FloatFormats.WriteHalf(y, d);
            uint qh = 0;
            for (int j = 0; j < BlockSize / 2; j++)
            {
                float x0 = block[j] * id;
                float x1 = block[BlockSize / 2 + j] * id;
                // (int8_t)(x + 16.5f) truncates toward zero, then MIN(31, ...) as uint8.
                int xi0 = Math.Min(31, (int)(sbyte)(int)(x0 + 16.5f));
                int xi1 = Math.Min(31, (int)(sbyte)(int)(x1 + 16.5f));
                y[6 + j] = (byte)((xi0 & 0x0F) | ((xi1 & 0x0F) << 4));
                qh |= (uint)((xi0 & 0x10) >> 4) << j;
                qh |= (uint)((xi1 & 0x10) >> 4) << (j + BlockSize / 2);
            }
            BitConverter.TryWriteBytes(y.Slice(2, 4), qh);
        }
        return output;
    }
}

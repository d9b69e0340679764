namespace RaftPipeline.Export.Quantization;

/// <summary>
/// ggml's Q8_0 (quantize_row_q8_0_ref): blocks of 32 values, d = absmax / 127 stored as f16, then 32 int8
/// q = round(x / d). 34 bytes per block.
/// </summary>
public static class Q8_0
{
    public const int BlockSize = 32;
    public const int BlockBytes = 34;

    public static byte[] Quantize(ReadOnlySpan<float> x)
    {
        if (x.Length % BlockSize != 0) throw new ArgumentException($"Q8_0 needs a multiple of {BlockSize} values, got {x.Length}");
        var output = new byte[x.Length / BlockSize * BlockBytes];
        for (int b = 0; b < x.Length / BlockSize; b++)
        {
            var block = x.Slice(b * BlockSize, BlockSize);
            var y = output.AsSpan(b * BlockBytes, BlockBytes);
            float amax = 0;
            for (int j = 0; j < BlockSize; j++) amax = MathF.Max(amax, MathF.Abs(block[j]));
            float d = amax / 127f;
            float id = d != 0 ? 1f / d : 0f;
            FloatFormats.WriteHalf(y, d);
            // roundf: half away from zero.
            for (int j = 0; j < BlockSize; j++) y[2 + j] = (byte)(sbyte)MathF.Round(block[j] * id, MidpointRounding.AwayFromZero);
        }
        return output;
    }
}

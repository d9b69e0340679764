using System.Buffers.Binary;

namespace RaftPipeline.Export.Quantization;

/// <summary>Plain float encodings: F32, F16 (IEEE half, round to nearest even, as ggml's GGML_FP32_TO_FP16) and
/// BF16 (the top 16 bits of an F32, rounded to nearest even, NaN kept quiet, as ggml_fp32_to_bf16).</summary>
public static class FloatFormats
{
    public static byte[] ToF32(ReadOnlySpan<float> values)
    {
        var bytes = new byte[values.Length * 4];
        for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * 4), values[i]);
        return bytes;
    }

    public static byte[] ToF16(ReadOnlySpan<float> values)
    {
        var bytes = new byte[values.Length * 2];
        for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteHalfLittleEndian(bytes.AsSpan(i * 2), (Half)values[i]);
        return bytes;
    }

    public static byte[] ToBf16(ReadOnlySpan<float> values)
    {
        var bytes = new byte[values.Length * 2];
        for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(i * 2), Bf16Bits(values[i]));
        return bytes;
    }

    public static ushort Bf16Bits(float value)
    {
        uint u = BitConverter.SingleToUInt32Bits(value);
        if ((u & 0x7fffffff) > 0x7f800000) return (ushort)((u >> 16) | 64); // NaN: force quiet
        return (ushort)((u + (0x7fff + ((u >> 16) & 1))) >> 16);
    }

    /// <summary>An F32 rounded through F16 and back: the value ggml reads after GGML_FP32_TO_FP16.</summary>
    public static float RoundToF16(float value) => (float)(Half)value;

    public static void WriteHalf(Span<byte> destination, float value) => BinaryPrimitives.WriteHalfLittleEndian(destination, (Half)value);
}

namespace RaftPipeline.Export.Gguf;

/// <summary>
/// The ggml tensor types this writer produces, with ggml's numbering (ggml.h, <c>enum ggml_type</c>) and block
/// geometry: a row of n values takes n / BlockSize blocks of BlockBytes bytes (ggml-common.h's block structs).
/// </summary>
public enum GgmlType : uint
{
    F32 = 0,
    F16 = 1,
    Q5_0 = 6,
    Q5_1 = 7,
    Q8_0 = 8,
    Q4_K = 12,
    Q5_K = 13,
    Q6_K = 14,
    BF16 = 30,
}

public static class GgmlTypes
{
    /// <summary>Values per block: 1 for plain floats, 32 for Q8_0/Q5_0, 256 (QK_K) for k-quants.</summary>
    public static int BlockSize(GgmlType type) => type switch
    {
        GgmlType.F32 or GgmlType.F16 or GgmlType.BF16 => 1,
        GgmlType.Q8_0 or GgmlType.Q5_0 or GgmlType.Q5_1 => 32,
        GgmlType.Q4_K or GgmlType.Q5_K or GgmlType.Q6_K => 256,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, null),
    };

    /// <summary>Bytes per block: block_q8_0 = f16 d + 32 int8; block_q5_0 = f16 d + 4 bytes of high bits + 16; block_q5_1 = f16 d, f16 m, 4 + 16;
    /// block_q4_K = f16 d, f16 dmin, 12 bytes of 6-bit scales/mins, 128 bytes of nibbles; block_q5_K = the same with 32 bytes of fifth bits
    /// before the nibbles; block_q6_K = 128 low
    /// nibbles, 64 bytes of high bits, 16 int8 scales, f16 d.</summary>
    public static int BlockBytes(GgmlType type) => type switch
    {
        GgmlType.F32 => 4,
        GgmlType.F16 or GgmlType.BF16 => 2,
        GgmlType.Q8_0 => 34,
        GgmlType.Q5_0 => 22,
        GgmlType.Q5_1 => 24,
        GgmlType.Q4_K => 144,
        GgmlType.Q5_K => 176,
        GgmlType.Q6_K => 210,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, null),
    };

    public static long RowBytes(GgmlType type, long rowLength)
    {
        int block = BlockSize(type);
        if (rowLength % block != 0)
            throw new ArgumentException($"a row of {rowLength} values is not a whole number of {type} blocks of {block}");
        return rowLength / block * BlockBytes(type);
    }

    /// <summary>The name llama.cpp prints (ggml_type_name).</summary>
    public static string Name(GgmlType type) => type switch
    {
        GgmlType.F32 => "f32",
        GgmlType.F16 => "f16",
        GgmlType.BF16 => "bf16",
        GgmlType.Q8_0 => "q8_0",
        GgmlType.Q5_0 => "q5_0",
        GgmlType.Q5_1 => "q5_1",
        GgmlType.Q4_K => "q4_K",
        GgmlType.Q5_K => "q5_K",
        GgmlType.Q6_K => "q6_K",
        _ => type.ToString(),
    };
}

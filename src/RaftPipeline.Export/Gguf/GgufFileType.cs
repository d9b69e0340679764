using RaftPipeline.Export.Quantization;

namespace RaftPipeline.Export.Gguf;

/// <summary>The whole-file types an export offers, named as llama.cpp names them (llama_ftype).</summary>
public enum GgufFileType
{
    F32,
    F16,
    BF16,
    Q8_0,
    Q4_K_M,
}

public static class GgufFileTypes
{
    public static IReadOnlyList<string> Names { get; } = ["f32", "f16", "bf16", "q8_0", "q4_k_m"];

    public static GgufFileType Parse(string name, string source) => name.ToLowerInvariant() switch
    {
        "f32" => GgufFileType.F32,
        "f16" => GgufFileType.F16,
        "bf16" => GgufFileType.BF16,
        "q8_0" => GgufFileType.Q8_0,
        "q4_k_m" => GgufFileType.Q4_K_M,
        _ => throw new ExportException(source, $"GGUF type '{name}' is not supported (supported: {string.Join(", ", Names)})"),
    };

    public static string Name(GgufFileType type) => Names[(int)type];

    /// <summary>general.file_type (llama_ftype): ALL_F32 0, MOSTLY_F16 1, MOSTLY_Q8_0 7, MOSTLY_Q4_K_M 15, MOSTLY_BF16 32.</summary>
    public static uint LlamaFileType(GgufFileType type) => type switch
    {
        GgufFileType.F32 => 0,
        GgufFileType.F16 => 1,
        GgufFileType.Q8_0 => 7,
        GgufFileType.Q4_K_M => 15,
        GgufFileType.BF16 => 32,
        _ => throw new ArgumentOutOfRangeException(nameof(type)),
    };

    /// <summary>Encodes F32 values as the given ggml type.</summary>
    public static byte[] Encode(GgmlType type, float[] values) => type switch
    {
        GgmlType.F32 => FloatFormats.ToF32(values),
        GgmlType.F16 => FloatFormats.ToF16(values),
        GgmlType.BF16 => FloatFormats.ToBf16(values),
        GgmlType.Q8_0 => Q8_0.Quantize(values),
        GgmlType.Q5_0 => Q5_0.Quantize(values),
        GgmlType.Q5_1 => Q5_1.Quantize(values),
        GgmlType.Q4_K => Q4_K.Quantize(values),
        GgmlType.Q5_K => Q5_K.Quantize(values),
        GgmlType.Q6_K => Q6_K.Quantize(values),
        _ => throw new ArgumentOutOfRangeException(nameof(type)),
    };
}

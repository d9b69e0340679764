using static TorchSharp.torch;

namespace RaftPipeline.Modeling.Safetensors;

/// <summary>
/// The dtype strings of the safetensors format that this tool reads and writes, with their libtorch element
/// type and size. Other strings the format knows (U16/U32/U64, F8_*) are refused by name: libtorch 2.10 through
/// TorchSharp 0.107 has no matching element type for all of them, and no model we load uses them.
/// </summary>
public static class SafetensorsDtype
{
    static readonly (string Name, ScalarType Type, int Size)[] Table =
    [
        ("BOOL", ScalarType.Bool, 1),
        ("U8", ScalarType.Byte, 1),
        ("I8", ScalarType.Int8, 1),
        ("I16", ScalarType.Int16, 2),
        ("I32", ScalarType.Int32, 4),
        ("I64", ScalarType.Int64, 8),
        ("F16", ScalarType.Float16, 2),
        ("BF16", ScalarType.BFloat16, 2),
        ("F32", ScalarType.Float32, 4),
        ("F64", ScalarType.Float64, 8),
    ];

    public static IReadOnlyList<string> SupportedNames { get; } = Table.Select(t => t.Name).ToArray();

    public static bool TryParse(string name, out ScalarType type, out int size)
    {
        foreach (var row in Table)
        {
            if (row.Name == name) { type = row.Type; size = row.Size; return true; }
        }
        type = default; size = 0;
        return false;
    }

    public static string NameOf(ScalarType type)
    {
        foreach (var row in Table)
            if (row.Type == type) return row.Name;
        throw new NotSupportedException($"a tensor of element type {type} cannot be stored in safetensors by this tool; " +
                                        $"supported: {string.Join(", ", SupportedNames)}");
    }

    public static int SizeOf(ScalarType type)
    {
        foreach (var row in Table)
            if (row.Type == type) return row.Size;
        throw new NotSupportedException($"element type {type} has no safetensors dtype here");
    }
}

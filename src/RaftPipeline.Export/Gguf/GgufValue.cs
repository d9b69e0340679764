namespace RaftPipeline.Export.Gguf;

/// <summary>GGUF metadata value types (gguf-py constants.py, <c>GGUFValueType</c>).</summary>
public enum GgufValueType : uint
{
    UInt8 = 0,
    Int8 = 1,
    UInt16 = 2,
    Int16 = 3,
    UInt32 = 4,
    Int32 = 5,
    Float32 = 6,
    Bool = 7,
    String = 8,
    Array = 9,
    UInt64 = 10,
    Int64 = 11,
    Float64 = 12,
}

/// <summary>One metadata value: a scalar, a string, or an array of one element type.</summary>
public sealed record GgufValue(GgufValueType Type, object Value, GgufValueType ElementType = GgufValueType.UInt8)
{
    public static GgufValue U32(uint v) => new(GgufValueType.UInt32, v);
    public static GgufValue I32(int v) => new(GgufValueType.Int32, v);
    public static GgufValue F32(float v) => new(GgufValueType.Float32, v);
    public static GgufValue Bool(bool v) => new(GgufValueType.Bool, v);
    public static GgufValue Str(string v) => new(GgufValueType.String, v);
    public static GgufValue Strings(IReadOnlyList<string> v) => new(GgufValueType.Array, v, GgufValueType.String);
    public static GgufValue I32s(IReadOnlyList<int> v) => new(GgufValueType.Array, v, GgufValueType.Int32);
    public static GgufValue F32s(IReadOnlyList<float> v) => new(GgufValueType.Array, v, GgufValueType.Float32);
}

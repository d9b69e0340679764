namespace RaftPipeline.Export.Gguf;

/// <summary>
/// One tensor to write: its GGUF name, its shape in PyTorch order (outermost first; the file stores the reverse),
/// its ggml type, and a function that produces its bytes when the writer reaches it, so a model is never held
/// in memory whole.
/// </summary>
public sealed record GgufTensorPlan(string Name, long[] Shape, GgmlType Type, Func<byte[]> Data)
{
    public long ByteLength => Shape.Length == 0 ? GgmlTypes.RowBytes(Type, 1)
        : GgmlTypes.RowBytes(Type, Shape[^1]) * Shape[..^1].Aggregate(1L, (a, b) => a * b);
}

using static TorchSharp.torch;

namespace RaftPipeline.Modeling.Safetensors;

/// <summary>
/// One tensor as the header describes it. <see cref="Begin"/>/<see cref="End"/> are relative to the first byte
/// after the header, as the format defines them.
/// </summary>
public sealed record SafetensorsEntry(string Name, string DtypeName, ScalarType Dtype, long[] Shape, long Begin, long End)
{
    public long ByteLength => End - Begin;
    public long ElementCount => Shape.Aggregate(1L, (a, b) => a * b);
    public int ElementSize => SafetensorsDtype.SizeOf(Dtype);
}

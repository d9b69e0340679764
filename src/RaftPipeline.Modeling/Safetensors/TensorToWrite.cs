using static TorchSharp.torch;

namespace RaftPipeline.Modeling.Safetensors;

/// <summary>
/// A tensor the writer will store: its name, stored dtype and shape up front (the header comes first), and a
/// producer called only when its bytes are due, so a merge or dequantization can stream tensor by tensor.
/// Whatever the producer allocates is released right after the write.
/// </summary>
public sealed record TensorToWrite(string Name, ScalarType Dtype, long[] Shape, Func<Tensor> Produce)
{
    public long ByteLength => Shape.Aggregate(1L, (a, b) => a * b) * SafetensorsDtype.SizeOf(Dtype);

    /// <summary>Stores an existing tensor as it is (its own dtype unless <paramref name="dtype"/> is given).</summary>
    public static TensorToWrite Of(string name, Tensor tensor, ScalarType? dtype = null) =>
        new(name, dtype ?? tensor.dtype, tensor.shape, () => tensor);
}

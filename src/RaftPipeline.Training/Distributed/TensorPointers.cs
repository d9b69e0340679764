using static TorchSharp.torch;

namespace RaftPipeline.Training.Distributed;

/// <summary>
/// The address of a tensor's first element, host or device memory, for native calls such as NCCL's. TorchSharp 0.107
/// exposes no Tensor.data_ptr(); it has <c>Tensor.storage&lt;T&gt;()</c> whose <c>Storage.data_ptr()</c> is the
/// storage's base address (THSStorage_data_ptr). <c>storage&lt;T&gt;()</c> converts with <c>to_type</c> first, which
/// aliases when T is already the tensor's dtype but COPIES otherwise, so T must match the dtype exactly, and only
/// byte, bool, int, long, float and double storages exist (no bf16/fp16: buckets are float32 for that reason).
/// The element address is base + storage_offset × element_size.
/// </summary>
public static class TensorPointers
{
    public static IntPtr DataPointer(Tensor tensor)
    {
        if (!tensor.is_contiguous())
            throw new ArgumentException("a raw pointer is only meaningful for a contiguous tensor", nameof(tensor));
        IntPtr basePointer = tensor.dtype switch
        {
            ScalarType.Float32 => Base<float>(tensor),
            ScalarType.Float64 => Base<double>(tensor),
            ScalarType.Int32 => Base<int>(tensor),
            ScalarType.Int64 => Base<long>(tensor),
            ScalarType.Byte => Base<byte>(tensor),
            ScalarType.Bool => Base<bool>(tensor),
            var other => throw new NotSupportedException(
                $"TorchSharp 0.107 has no storage view for {other}: reduce a float32 copy instead"),
        };
        return basePointer + checked((nint)(tensor.storage_offset() * tensor.element_size()));
    }

    static IntPtr Base<T>(Tensor tensor) where T : unmanaged
    {
        using var storage = tensor.storage<T>();
        return storage.data_ptr();
    }
}

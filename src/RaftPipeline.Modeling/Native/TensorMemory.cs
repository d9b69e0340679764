using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace RaftPipeline.Modeling.Native;

/// <summary>
/// The address of a tensor's first element, host or device memory, for native code that reads or writes libtorch's
/// memory directly: our CUDA kernels, NCCL. Any dtype (bf16 included); the storage offset is accounted for.
/// </summary>
public static class TensorMemory
{
    // TorchSharp's native shim exports tensor.data_ptr() as THSTensor_data; the managed API has no public wrapper.
    [DllImport("LibTorchSharp")] static extern IntPtr THSTensor_data(IntPtr tensor);

    /// <summary>
    /// The address of <paramref name="t"/>'s data; <paramref name="t"/> must be contiguous (our kernels index it as a
    /// dense row-major array) and stay alive while a kernel uses it.
    /// </summary>
    public static IntPtr Address(Tensor t)
    {
        if (!t.is_contiguous()) throw new ArgumentException("a fused kernel needs contiguous tensors");
        return THSTensor_data(t.Handle);
    }

    /// <summary>
    /// The address of <paramref name="t"/>'s first element whatever its strides: for callers that pass the strides on
    /// themselves (a row-strided block of a wider tensor).
    /// </summary>
    public static IntPtr FirstElementAddress(Tensor t) => THSTensor_data(t.Handle);
}

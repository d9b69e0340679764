using System.Collections.Concurrent;

namespace RaftPipeline.Modeling.Native.Cuda;

/// <summary>
/// A GPU's primary context, the one the CUDA runtime (and so libtorch) uses, retained once per device for the life of
/// the process and made current on whichever .NET thread needs the driver API.
/// </summary>
static class PrimaryContext
{
    static readonly ConcurrentDictionary<int, (int Device, IntPtr Context)> Retained = new();

    /// <summary>The driver's device handle and primary context for CUDA device <paramref name="ordinal"/>.</summary>
    public static (int Device, IntPtr Context) For(int ordinal) => Retained.GetOrAdd(ordinal, o =>
    {
        CudaDriverApi.Check(CudaDriverApi.cuInit(0), "cuInit");
        CudaDriverApi.Check(CudaDriverApi.cuDeviceGet(out var device, o), "cuDeviceGet");
        CudaDriverApi.Check(CudaDriverApi.cuDevicePrimaryCtxRetain(out var context, device), "cuDevicePrimaryCtxRetain");
        return (device, context);
    });

    /// <summary>Makes <paramref name="context"/> current on the calling thread if it is not already.</summary>
    public static void MakeCurrent(IntPtr context)
    {
        CudaDriverApi.Check(CudaDriverApi.cuCtxGetCurrent(out var current), "cuCtxGetCurrent");
        if (current != context) CudaDriverApi.Check(CudaDriverApi.cuCtxSetCurrent(context), "cuCtxSetCurrent");
    }
}

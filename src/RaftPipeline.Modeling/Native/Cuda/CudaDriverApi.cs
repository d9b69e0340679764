using System.Runtime.InteropServices;

namespace RaftPipeline.Modeling.Native.Cuda;

/// <summary>
/// The few CUDA driver API entry points our run-time compiled kernels need (libcuda.so.1, installed with the NVIDIA
/// driver, the same library libtorch's runtime sits on). Kernels run in the device's primary context, the one the
/// CUDA runtime (and so libtorch) uses, so they see torch's allocations directly.
/// </summary>
static class CudaDriverApi
{
    const string Lib = "libcuda.so.1";

    [DllImport(Lib)] public static extern int cuInit(uint flags);
    [DllImport(Lib)] public static extern int cuDeviceGet(out int device, int ordinal);
    [DllImport(Lib)] public static extern int cuDeviceGetAttribute(out int value, int attribute, int device);
    [DllImport(Lib)] public static extern int cuDevicePrimaryCtxRetain(out IntPtr context, int device);
    [DllImport(Lib)] public static extern int cuCtxGetCurrent(out IntPtr context);
    [DllImport(Lib)] public static extern int cuCtxSetCurrent(IntPtr context);
    [DllImport(Lib)] public static extern int cuModuleLoadData(out IntPtr module, byte[] image);
    [DllImport(Lib)] public static extern int cuModuleGetFunction(out IntPtr function, IntPtr module, string name);
    [DllImport(Lib)] public static extern int cuMemGetInfo_v2(out nuint free, out nuint total);
    [DllImport(Lib)] public static extern int cuGetErrorString(int error, out IntPtr text);
    [DllImport(Lib)] public static extern int cuDriverGetVersion(out int version);
    [DllImport(Lib)] public static extern int cuDeviceGetCount(out int count);
    [DllImport(Lib)] public static extern int cuDeviceGetName(byte[] name, int length, int device);
    [DllImport(Lib)] public static extern int cuDeviceTotalMem_v2(out nuint bytes, int device);

    // Streams, stream capture and graphs, copies (the CUDA decode session: Native/Cuda/Decode).
    [DllImport(Lib)] public static extern int cuStreamCreate(out IntPtr stream, uint flags);
    [DllImport(Lib, EntryPoint = "cuStreamDestroy_v2")] public static extern int cuStreamDestroy(IntPtr stream);
    [DllImport(Lib)] public static extern int cuStreamSynchronize(IntPtr stream);
    [DllImport(Lib)] public static extern int cuCtxSynchronize();
    [DllImport(Lib, EntryPoint = "cuStreamBeginCapture_v2")] public static extern int cuStreamBeginCapture(IntPtr stream, int mode);
    [DllImport(Lib)] public static extern int cuStreamEndCapture(IntPtr stream, out IntPtr graph);
    [DllImport(Lib)] public static extern int cuGraphInstantiateWithFlags(out IntPtr exec, IntPtr graph, ulong flags);
    [DllImport(Lib)] public static extern int cuGraphLaunch(IntPtr exec, IntPtr stream);
    [DllImport(Lib)] public static extern int cuGraphExecDestroy(IntPtr exec);
    [DllImport(Lib)] public static extern int cuGraphDestroy(IntPtr graph);
    [DllImport(Lib, EntryPoint = "cuMemAllocHost_v2")] public static extern int cuMemAllocHost(out IntPtr pointer, nuint bytes);
    [DllImport(Lib)] public static extern int cuMemFreeHost(IntPtr pointer);
    [DllImport(Lib, EntryPoint = "cuMemcpyHtoDAsync_v2")] public static extern int cuMemcpyHtoDAsync(IntPtr device, IntPtr host, nuint bytes, IntPtr stream);
    [DllImport(Lib, EntryPoint = "cuMemcpyDtoHAsync_v2")] public static extern int cuMemcpyDtoHAsync(IntPtr host, IntPtr device, nuint bytes, IntPtr stream);
    [DllImport(Lib)] public static extern int cuFuncSetAttribute(IntPtr function, int attribute, int value);
    [DllImport(Lib)] public static extern int cuGetErrorName(int error, out IntPtr name);

    [DllImport(Lib)] public static extern int cuEventCreate(out IntPtr evt, uint flags);
    [DllImport(Lib, EntryPoint = "cuEventDestroy_v2")] public static extern int cuEventDestroy(IntPtr evt);
    [DllImport(Lib)] public static extern int cuEventRecord(IntPtr evt, IntPtr stream);
    [DllImport(Lib)] public static extern int cuEventElapsedTime(out float milliseconds, IntPtr start, IntPtr end);

    public const uint StreamNonBlocking = 1;
    public const int CaptureModeThreadLocal = 1;
    public const int FuncAttributeMaxDynamicSharedBytes = 8;

    [DllImport(Lib)]
    public static extern int cuLaunchKernel(IntPtr function, uint gridX, uint gridY, uint gridZ, uint blockX, uint blockY,
        uint blockZ, uint sharedMemBytes, IntPtr stream, IntPtr[] kernelParams, IntPtr extra);

    public const int ComputeCapabilityMajor = 75;
    public const int ComputeCapabilityMinor = 76;

    /// <summary>Throws with the driver's own message when <paramref name="result"/> is not CUDA_SUCCESS.</summary>
    public static void Check(int result, string call)
    {
        if (result == 0) return;
        string message = cuGetErrorString(result, out var text) == 0 && text != IntPtr.Zero
            ? Marshal.PtrToStringAnsi(text) ?? "" : "";
        string name = cuGetErrorName(result, out var n) == 0 && n != IntPtr.Zero ? Marshal.PtrToStringAnsi(n) ?? "" : "";
        throw new InvalidOperationException($"CUDA driver: {call} failed with error {result} {name} ({message})");
    }
}

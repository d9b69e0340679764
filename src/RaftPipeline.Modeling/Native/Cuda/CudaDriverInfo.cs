using System.Runtime.InteropServices;
using System.Text;

namespace RaftPipeline.Modeling.Native.Cuda;

/// <summary>A GPU as the NVIDIA driver reports it.</summary>
public sealed record CudaDevice(int Ordinal, string Name, long TotalMemoryBytes, int ComputeCapabilityMajor, int ComputeCapabilityMinor);

/// <summary>The NVIDIA driver (libcuda.so.1) and its GPUs, or why there is none to ask.</summary>
public sealed record CudaDriverInfo(string? DriverVersion, IReadOnlyList<CudaDevice> Devices, string? Problem)
{
    /// <summary>
    /// Asks the driver API directly (not libtorch), so it answers whichever libtorch build is loaded: the driver
    /// version, every device's name, memory and compute capability. Never throws.
    /// </summary>
    public static CudaDriverInfo Query()
    {
        if (!NativeLibrary.TryLoad("libcuda.so.1", out _))
            return new CudaDriverInfo(null, [], "no NVIDIA driver: libcuda.so.1 is not installed (or not on the loader's path)");
        try
        {
            int init = CudaDriverApi.cuInit(0);
            if (init != 0) return new CudaDriverInfo(null, [], $"the NVIDIA driver did not initialise (cuInit error {init}{ErrorName(init)})");
            CudaDriverApi.Check(CudaDriverApi.cuDriverGetVersion(out int version), "cuDriverGetVersion");
            CudaDriverApi.Check(CudaDriverApi.cuDeviceGetCount(out int count), "cuDeviceGetCount");
            var devices = new List<CudaDevice>();
            for (int i = 0; i < count; i++)
            {
                CudaDriverApi.Check(CudaDriverApi.cuDeviceGet(out int device, i), "cuDeviceGet");
                var name = new byte[256];
                CudaDriverApi.Check(CudaDriverApi.cuDeviceGetName(name, name.Length, device), "cuDeviceGetName");
                CudaDriverApi.Check(CudaDriverApi.cuDeviceTotalMem_v2(out nuint bytes, device), "cuDeviceTotalMem");
                CudaDriverApi.Check(CudaDriverApi.cuDeviceGetAttribute(out int major, CudaDriverApi.ComputeCapabilityMajor, device), "cuDeviceGetAttribute");
                CudaDriverApi.Check(CudaDriverApi.cuDeviceGetAttribute(out int minor, CudaDriverApi.ComputeCapabilityMinor, device), "cuDeviceGetAttribute");
                devices.Add(new CudaDevice(i, Encoding.ASCII.GetString(name, 0, Array.IndexOf(name, (byte)0) is var n and >= 0 ? n : name.Length),
                    (long)bytes, major, minor));
            }
            // cuDriverGetVersion: 1000 × major + 10 × minor (12080 is CUDA 12.8).
            return new CudaDriverInfo($"{version / 1000}.{version % 1000 / 10}", devices, count == 0 ? "the NVIDIA driver sees no GPU" : null);
        }
        catch (Exception e) when (e is InvalidOperationException or EntryPointNotFoundException)
        {
            return new CudaDriverInfo(null, [], e.Message);
        }
    }

    static string ErrorName(int error) =>
        CudaDriverApi.cuGetErrorString(error, out var text) == 0 && text != IntPtr.Zero ? $": {Marshal.PtrToStringAnsi(text)}" : "";
}

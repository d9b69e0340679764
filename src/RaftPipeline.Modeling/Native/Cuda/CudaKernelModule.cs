using System.Collections.Concurrent;
using System.Runtime.InteropServices;

namespace RaftPipeline.Modeling.Native.Cuda;

/// <summary>
/// One CUDA C++ source compiled by NVRTC for one device's architecture and loaded into that device's primary context.
/// Launches go to the legacy default stream: TorchSharp never makes another stream current, so that is the stream
/// every libtorch kernel of this process runs on, and ours are ordered with theirs without any synchronisation.
/// </summary>
sealed class CudaKernelModule
{
    readonly IntPtr _context;
    readonly IntPtr _module;
    readonly ConcurrentDictionary<string, IntPtr> _functions = new();

    CudaKernelModule(IntPtr context, IntPtr module)
    {
        _context = context;
        _module = module;
    }

    public int DeviceOrdinal { get; private init; }

    /// <summary>Compiles <paramref name="source"/> for the GPU at <paramref name="ordinal"/> and loads it.</summary>
    public static CudaKernelModule Load(string source, string name, int ordinal)
    {
        var (device, context) = PrimaryContext.For(ordinal);
        CudaDriverApi.Check(CudaDriverApi.cuDeviceGetAttribute(out var major, CudaDriverApi.ComputeCapabilityMajor, device), "cuDeviceGetAttribute");
        CudaDriverApi.Check(CudaDriverApi.cuDeviceGetAttribute(out var minor, CudaDriverApi.ComputeCapabilityMinor, device), "cuDeviceGetAttribute");
        var cubin = NvrtcApi.CompileToCubin(source, name, major * 10 + minor);
        PrimaryContext.MakeCurrent(context);
        CudaDriverApi.Check(CudaDriverApi.cuModuleLoadData(out var module, cubin), $"cuModuleLoadData({name})");
        return new CudaKernelModule(context, module) { DeviceOrdinal = ordinal };
    }

    /// <summary>
    /// Launches <paramref name="kernel"/> with a 1-D grid. Arguments are passed by value in declaration order: IntPtr
    /// for pointers, and int, long, float as the kernel declares them.
    /// </summary>
    public void Launch(string kernel, long blocks, int threads, params object[] arguments) =>
        Launch(kernel, blocks, threads, 0, arguments);

    public void Launch(string kernel, long blocks, int threads, int sharedBytes, params object[] arguments)
    {
        if (blocks <= 0) return;
        if (blocks > int.MaxValue) throw new ArgumentOutOfRangeException(nameof(blocks), $"{kernel}: grid of {blocks} blocks");
        LaunchOn(IntPtr.Zero, kernel, (uint)blocks, (uint)threads, (uint)sharedBytes, arguments);
    }

    /// <summary>The loaded function <paramref name="kernel"/> (for attributes such as its shared-memory limit).</summary>
    public IntPtr Function(string kernel) => _functions.GetOrAdd(kernel, k =>
    {
        CudaDriverApi.Check(CudaDriverApi.cuModuleGetFunction(out var f, _module, k), $"cuModuleGetFunction({k})");
        return f;
    });

    /// <summary>Launches <paramref name="kernel"/> on <paramref name="stream"/> (IntPtr.Zero: the legacy default stream).</summary>
    public void LaunchOn(IntPtr stream, string kernel, uint blocks, uint threads, uint sharedBytes, object[] arguments)
    {
        var function = Function(kernel);
        PrimaryContext.MakeCurrent(_context);
        // kernelParams is an array of pointers to each argument's value: the values sit in one 8-byte slot each of a
        // single native block (one allocation per launch: this runs thousands of times per training step).
        var block = Marshal.AllocHGlobal(8 * Math.Max(1, arguments.Length));
        try
        {
            var slots = new IntPtr[arguments.Length];
            for (int i = 0; i < arguments.Length; i++)
            {
                slots[i] = block + 8 * i;
                switch (arguments[i])
                {
                    case IntPtr p: Marshal.WriteIntPtr(slots[i], p); break;
                    case long l: Marshal.WriteInt64(slots[i], l); break;
                    case int n: Marshal.WriteInt32(slots[i], n); break;
                    case float f: Marshal.WriteInt32(slots[i], BitConverter.SingleToInt32Bits(f)); break;
                    default: throw new ArgumentException($"{kernel}: argument {i} has unsupported type {arguments[i]?.GetType().Name}");
                }
            }
            CudaDriverApi.Check(CudaDriverApi.cuLaunchKernel(function, blocks, 1, 1, threads, 1, 1,
                sharedBytes, stream, slots, IntPtr.Zero), $"cuLaunchKernel({kernel})");
        }
        finally
        {
            Marshal.FreeHGlobal(block);
        }
    }
}

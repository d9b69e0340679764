using System.Collections.Concurrent;
using TorchSharp;
using static TorchSharp.torch;

namespace RaftPipeline.Modeling.Native.Cuda;

/// <summary>
/// Our CUDA kernels (Native/Cuda/Kernels/*.cu, embedded), compiled at run time by NVRTC per GPU and launched on torch's
/// stream. Callers ask <see cref="For"/> for a device and fall back to the unfused libtorch ops when it returns null:
/// on the CPU, when RAFT_FUSED_KERNELS=0, or when NVRTC or the driver is missing (the reason is kept in
/// <see cref="UnavailableReason"/>). Every kernel has a check against the unfused ops (tests/gpu).
/// </summary>
public sealed partial class FusedKernels
{
    static readonly ConcurrentDictionary<int, Lazy<FusedKernels?>> ByDevice = new();
    static string? _unavailable;

    internal CudaKernelModule Module { get; }

    FusedKernels(CudaKernelModule module) => Module = module;

    /// <summary>Why the last <see cref="For"/> call on a CUDA device returned null, if it did.</summary>
    public static string? UnavailableReason => _unavailable;

    /// <summary>False when the user switched the kernels off (RAFT_FUSED_KERNELS=0).</summary>
    public static bool Enabled => Environment.GetEnvironmentVariable("RAFT_FUSED_KERNELS") is not ("0" or "false" or "off");

    /// <summary>The kernels for <paramref name="device"/>, or null where only the unfused ops can run.</summary>
    public static FusedKernels? For(Device device)
    {
        if (device.type != DeviceType.CUDA || !Enabled) return null;
        int ordinal = Math.Max(0, device.index);
        return ByDevice.GetOrAdd(ordinal, o => new Lazy<FusedKernels?>(() => TryLoad(o))).Value;
    }

    static FusedKernels? TryLoad(int ordinal)
    {
        try
        {
            return new FusedKernels(CudaKernelModule.Load(Source(), "raft_kernels.cu", ordinal));
        }
        catch (Exception e) when (e is DllNotFoundException or InvalidOperationException or EntryPointNotFoundException)
        {
            _unavailable = e.Message;
            Console.Error.WriteLine($"raft: fused CUDA kernels unavailable, using unfused ops: {e.Message}");
            return null;
        }
    }

    /// <summary>The training kernels' sources (Native/Cuda/Kernels/*.cu), concatenated into one translation unit (one compile, one module).</summary>
    public static string Source() => Sources("Native.Cuda.Kernels.");

    /// <summary>The embedded .cu sources whose resource names contain one of <paramref name="folders"/> (dotted paths), in that order.</summary>
    internal static string Sources(params string[] folders)
    {
        var assembly = typeof(FusedKernels).Assembly;
        var parts = assembly.GetManifestResourceNames()
            .Where(n => n.EndsWith(".cu", StringComparison.Ordinal) && folders.Any(f => n.Contains("." + f, StringComparison.Ordinal)))
            .OrderBy(n => Array.FindIndex(folders, f => n.Contains("." + f, StringComparison.Ordinal))).ThenBy(n => n, StringComparer.Ordinal)
            .Select(n =>
            {
                using var stream = assembly.GetManifestResourceStream(n)!;
                using var reader = new StreamReader(stream);
                return $"// ---- {n}\n{reader.ReadToEnd()}";
            });
        return string.Join("\n", parts);
    }
}

using System.Collections.Concurrent;

namespace RaftPipeline.Modeling.Native.Cuda.Decode;

/// <summary>
/// The decode step's kernels (Native/Cuda/Decode/Kernels/*.cu with the shared helpers of Kernels/00_common.cu), compiled
/// by NVRTC once per GPU and launched on the session's own stream. The skinny GEMMs come in batch forms 1, 2, 4, 8 and
/// 16 (the accumulators of every row stay in registers); a batch runs on the smallest form that holds it.
/// </summary>
public sealed class DecodeKernels
{
    static readonly ConcurrentDictionary<int, Lazy<DecodeKernels>> ByDevice = new();

    /// <summary>The batch sizes the GEMM kernels are built for.</summary>
    public static readonly int[] BatchForms = [1, 2, 4, 8, 16];

    public const int MaxBatch = 16;

    DecodeKernels(CudaKernelModule module) => Module = module;

    internal CudaKernelModule Module { get; }

    /// <summary>The compiled kernels for GPU <paramref name="ordinal"/> (compiled on first use; a failure throws with NVRTC's log).</summary>
    internal static DecodeKernels For(int ordinal) => ByDevice.GetOrAdd(ordinal, o => new Lazy<DecodeKernels>(() =>
        new DecodeKernels(CudaKernelModule.Load(Source(), "raft_decode.cu", o)))).Value;

    public static string Source() => FusedKernels.Sources("Native.Cuda.Kernels.00_common.cu", "Native.Cuda.Decode.Kernels.");

    /// <summary>The GEMM kernel form for <paramref name="batch"/> rows.</summary>
    public static int FormFor(int batch) => BatchForms.First(f => f >= batch);

    internal void Launch(IntPtr stream, string kernel, long blocks, int threads, int sharedBytes, params object[] arguments)
    {
        if (blocks <= 0 || blocks > int.MaxValue) throw new ArgumentOutOfRangeException(nameof(blocks), $"{kernel}: grid of {blocks} blocks");
        Module.LaunchOn(stream, kernel, (uint)blocks, (uint)threads, (uint)sharedBytes, arguments);
    }

    /// <summary>Lets <paramref name="kernel"/> take up to <paramref name="bytes"/> of dynamic shared memory (past the default 48 KB).</summary>
    internal void AllowSharedMemory(string kernel, int bytes) =>
        CudaDriverApi.Check(CudaDriverApi.cuFuncSetAttribute(Module.Function(kernel), CudaDriverApi.FuncAttributeMaxDynamicSharedBytes, bytes),
            $"cuFuncSetAttribute({kernel}, max dynamic shared memory {bytes})");
}

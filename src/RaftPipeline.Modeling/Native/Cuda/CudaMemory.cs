namespace RaftPipeline.Modeling.Native.Cuda;

/// <summary>
/// The device's used memory as nvidia-smi counts it (total − free: every process's allocations, libtorch's cached
/// blocks and CUDA contexts included), read through the driver in the primary context. For benchmarks and logs:
/// TorchSharp does not expose libtorch's own allocator statistics.
/// </summary>
public static class CudaMemory
{
    public static long UsedBytes(int ordinal = 0)
    {
        var (free, total) = Info(ordinal);
        return total - free;
    }

    /// <summary>Free device memory (what neither this process, its cache, nor any other process holds).</summary>
    public static long FreeBytes(int ordinal = 0) => Info(ordinal).Free;

    static (long Free, long Total) Info(int ordinal)
    {
        PrimaryContext.MakeCurrent(PrimaryContext.For(ordinal).Context);
        CudaDriverApi.Check(CudaDriverApi.cuMemGetInfo_v2(out var free, out var total), "cuMemGetInfo");
        return ((long)free, (long)total);
    }
}

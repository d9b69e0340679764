using TorchSharp;
using static TorchSharp.torch;

namespace RaftPipeline.Modeling.Native.Cuda;

/// <summary>
/// One-launch kernels over many tensors (kernels/multi_tensor.cu): the optimizer step and gradient clipping of a LoRA
/// model touch ~500 small tensors, and one libtorch op per tensor and per operation made them launch-bound (measured
/// on the Qwen3-4B shape: 8-bit AdamW 366 ms, clipping 14 ms per step).
/// </summary>
public sealed partial class FusedKernels
{
    const int ElementsPerChunk = 4096;

    /// <summary>
    /// The kernels for a multi-tensor launch, or null where the per-tensor libtorch ops must run instead: every
    /// tensor a contiguous fp32 tensor on one CUDA device (and the kernels available there).
    /// </summary>
    public static FusedKernels? ForFp32Tensors(IReadOnlyList<Tensor> tensors, string? site = null)
    {
        var device = tensors[0].device;
        if (device.type != DeviceType.CUDA) return null;
        // A call site that passes the very tensors it passed last time (same addresses, same order: an optimizer's
        // parameters, states and gradient buffers) skips the checks, 4 native calls per tensor (~2,000 tensors a step).
        long[]? key = site is null ? null : Addresses(tensors);
        if (key is not null && Validated.TryGetValue(site!, out var last) && last.AsSpan().SequenceEqual(key)) return For(device);
        foreach (var t in tensors)
            if (t.dtype != ScalarType.Float32 || !t.is_contiguous() || t.device_type != DeviceType.CUDA || t.device_index != device.index)
                return null;
        if (key is not null) Validated[site!] = key;
        return For(device);
    }

    static readonly System.Collections.Concurrent.ConcurrentDictionary<string, long[]> Validated = new();

    static long[] Addresses(IReadOnlyList<Tensor> tensors)
    {
        var key = new long[tensors.Count];
        for (int i = 0; i < key.Length; i++) key[i] = KeyAddress(tensors[i]);
        return key;
    }

    /// <summary>
    /// Where a tensor's data is, for cache keys only: one native call, no layout check (the checks run when a key
    /// changes; a launch takes its pointers through <see cref="Ptr"/>, which does check).
    /// </summary>
    internal static long KeyAddress(Tensor t) => Native.TensorMemory.FirstElementAddress(t).ToInt64();

    /// <summary>Σ x² over every tensor (fp32, contiguous, on this device), as a 0-dim fp32 tensor.</summary>
    public Tensor SumOfSquaresFp32(IReadOnlyList<Tensor> tensors)
    {
        using var scope = NewDisposeScope();
        var (table, chunks) = CachedTable("sum_squares", tensors.Select(t => new[] { t }).ToList(), tensors, ElementsPerChunk,
            () => RequireFp32(tensors));
        var partials = empty(chunks, ScalarType.Float32, tensors[0].device);
        Module.Launch("sum_squares_multi_fp32", chunks, Threads, Ptr(table), tensors.Count, Ptr(partials));
        return partials.sum().MoveToOuterDisposeScope();
    }

    /// <summary>x ← x · scale for every tensor, scale a one-value fp32 tensor on the device.</summary>
    public void ScaleFp32(IReadOnlyList<Tensor> tensors, Tensor scale)
    {
        using var scope = NewDisposeScope();
        var s = scale.to(ScalarType.Float32).contiguous();
        var (table, chunks) = CachedTable("scale", tensors.Select(t => new[] { t }).ToList(), tensors, ElementsPerChunk,
            () => RequireFp32(tensors));
        Module.Launch("scale_multi_fp32", chunks, Threads, Ptr(table), tensors.Count, Ptr(s));
    }

    /// <summary>One AdamW step over (param, grad, exp_avg, exp_avg_sq) fp32 quadruples.</summary>
    public void AdamWFp32(IReadOnlyList<Tensor[]> quads, double decay, double beta1, double beta2, double bc2Sqrt,
        double eps, double stepSize)
    {
        using var scope = NewDisposeScope();
        var (table, chunks) = CachedTable("adamw", quads, quads.Select(q => q[0]).ToList(), ElementsPerChunk,
            () => { foreach (var q in quads) RequireFp32(q); });
        Module.Launch("adamw_multi_fp32", chunks, Threads, Ptr(table), quads.Count, (float)decay, (float)(1 - beta1),
            (float)beta2, (float)(1 - beta2), (float)bc2Sqrt, (float)eps, (float)stepSize);
    }

    /// <summary>
    /// One 8-bit AdamW step over (param, grad, state1, state2, absmax1, absmax2) sextuples, states in blocks of 256.
    /// </summary>
    public void AdamW8bitBlockwise(IReadOnlyList<Tensor[]> sextuples, Tensor signedMap, Tensor unsignedMap,
        Tensor signedBounds, Tensor unsignedBounds, double decay, double beta1, double beta2, double bc2Sqrt,
        double eps, double stepSize)
    {
        using var scope = NewDisposeScope();
        var (table, chunks) = CachedTable("adamw8bit", sextuples, sextuples.Select(s => s[0]).ToList(), 256, () =>
        {
            foreach (var s in sextuples)
            {
                RequireFp32([s[0], s[1], s[4], s[5]]);
                if (s[2].dtype != ScalarType.Byte || s[3].dtype != ScalarType.Byte) throw new ArgumentException("8-bit states must be uint8");
            }
        });
        Module.Launch("adamw8bit_blockwise", chunks, 256, Ptr(table), sextuples.Count, Ptr(signedMap), Ptr(unsignedMap),
            Ptr(signedBounds), Ptr(unsignedBounds), (float)decay, (float)beta1, (float)(1 - beta1), (float)beta2,
            (float)(1 - beta2), (float)bc2Sqrt, (float)eps, (float)stepSize);
    }

    /// <summary>
    /// A scaled copy between dtypes for many tensors: (fp32 source, bf16 destination of the same element count, scale)
    /// triples, dst = bf16(src · scale). <paramref name="table"/> is built by <see cref="ScaledCopyTable"/> once and
    /// reused while the tensors live (their storage does not move).
    /// </summary>
    public void CastScaleFp32ToBf16(ScaledCopyTable table) =>
        Module.Launch("cast_scale_multi_fp32_bf16", table.Chunks, Threads, Ptr(table.Device), table.Count);

    /// <summary>dst_fp32 = scale · src_bf16 (or += with <paramref name="accumulate"/>) over a table's triples.</summary>
    public void AccumulateScaledBf16ToFp32(ScaledCopyTable table, bool accumulate) =>
        Module.Launch("accumulate_scale_multi_bf16_fp32", table.Chunks, Threads, Ptr(table.Device), table.Count, accumulate ? 1 : 0);

    /// <summary>
    /// The table of <see cref="CastScaleFp32ToBf16"/> and <see cref="AccumulateScaledBf16ToFp32"/>: per pair the source and
    /// destination pointers, the scale (as a double's bits), the columns and both row strides, then the chunks. A pair is
    /// two 2-D tensors of one shape, each with unit column stride (a contiguous tensor, or a block of a wider one).
    /// Holds its device copy; dispose it.
    /// </summary>
    public sealed class ScaledCopyTable : IDisposable
    {
        public ScaledCopyTable(IReadOnlyList<(Tensor Source, Tensor Destination, double Scale)> pairs)
        {
            if (pairs.Count == 0) throw new ArgumentException("a copy table needs at least one pair");
            var values = new List<long>(6 * pairs.Count);
            var counts = new long[pairs.Count];
            for (int i = 0; i < pairs.Count; i++)
            {
                var (src, dst, scale) = pairs[i];
                var (rows, cols, srcLd) = Region(src);
                var (dstRows, dstCols, dstLd) = Region(dst);
                if (rows != dstRows || cols != dstCols) throw new ArgumentException($"copy pair shapes differ: [{rows}, {cols}] vs [{dstRows}, {dstCols}]");
                // Region() checked the strides the kernel is given, so blocks of wider tensors are fine here.
                values.AddRange([Native.TensorMemory.FirstElementAddress(src).ToInt64(), Native.TensorMemory.FirstElementAddress(dst).ToInt64(),
                    BitConverter.DoubleToInt64Bits(scale), cols, srcLd, dstLd]);
                counts[i] = rows * cols;
            }
            long chunks = 0;
            for (int i = 0; i < pairs.Count; i++)
                for (long start = 0; start < counts[i]; start += ElementsPerChunk, chunks++)
                {
                    values.Add(i);
                    values.Add(start);
                    values.Add(Math.Min(ElementsPerChunk, counts[i] - start));
                }
            Device = tensor(values.ToArray(), dtype: ScalarType.Int64).to(pairs[0].Source.device).DetachFromDisposeScope();
            Count = pairs.Count;
            Chunks = chunks;
        }

        /// <summary>(rows, cols, row stride) of a 2-D tensor with unit column stride (1-D: one row).</summary>
        static (long Rows, long Cols, long Ld) Region(Tensor t)
        {
            long[] shape = t.shape, strides = t.stride();
            if (shape.Length == 1 && strides[0] == 1) return (1, shape[0], shape[0]);
            if (shape.Length == 2 && (strides[1] == 1 || shape[1] == 1) && strides[0] >= shape[1]) return (shape[0], shape[1], strides[0]);
            throw new ArgumentException($"copy pairs must be rows of unit stride, got shape [{string.Join(", ", shape)}] strides [{string.Join(", ", strides)}]");
        }

        internal Tensor Device { get; }
        public int Count { get; }
        public long Chunks { get; }

        public void Dispose() => Device.Dispose();
    }

    readonly System.Collections.Concurrent.ConcurrentDictionary<string, (long[] Key, Tensor Table, long Chunks)> _tables = new();

    /// <summary>
    /// <see cref="Table(IReadOnlyList{Tensor[]}, IReadOnlyList{Tensor}, int)"/> kept per call site and reused while every
    /// tensor address and size is unchanged (the same optimizer state and gradient buffers step after step), so the
    /// table is neither rebuilt nor copied to the device again. The returned tensor belongs to the cache.
    /// </summary>
    (Tensor Table, long Chunks) CachedTable(string site, IReadOnlyList<Tensor[]> slots, IReadOnlyList<Tensor> sized, int chunk,
        Action validate)
    {
        var key = new List<long>(slots.Count * (slots[0].Length + 1));
        foreach (var s in slots) foreach (var t in s) key.Add(KeyAddress(t));
        foreach (var t in sized) key.Add(t.numel());
        var keyArray = key.ToArray();
        if (_tables.TryGetValue(site, out var cached) && cached.Key.AsSpan().SequenceEqual(keyArray)) return (cached.Table, cached.Chunks);
        validate(); // dtypes and layouts: checked when the tensors change, not every step
        var (table, chunks) = Table(slots, sized, chunk);
        table.DetachFromDisposeScope();
        // Freeing the old table is stream-ordered in the caching allocator: a kernel still queued on it is unaffected.
        if (_tables.TryGetValue(site, out var old)) old.Table.Dispose();
        _tables[site] = (keyArray, table, chunks);
        return (table, chunks);
    }

    static (Tensor Table, long Chunks) Table(IReadOnlyList<Tensor[]> slots, IReadOnlyList<Tensor> sized, int chunk)
    {
        int width = slots[0].Length;
        var values = new List<long>(slots.Count * width + 3 * slots.Count);
        foreach (var s in slots)
        {
            if (s.Length != width) throw new ArgumentException("every tensor needs the same slots");
            foreach (var t in s) values.Add(Ptr(t).ToInt64());
        }
        long chunks = 0;
        for (int i = 0; i < sized.Count; i++)
        {
            long n = sized[i].numel();
            for (long start = 0; start < n; start += chunk, chunks++)
            {
                values.Add(i);
                values.Add(start);
                values.Add(Math.Min(chunk, n - start));
            }
        }
        var table = tensor(values.ToArray(), dtype: ScalarType.Int64).to(sized[0].device);
        return (table, chunks);
    }

    static void RequireFp32(IEnumerable<Tensor> tensors)
    {
        foreach (var t in tensors)
        {
            if (t.dtype != ScalarType.Float32) throw new ArgumentException($"multi-tensor kernel: expected fp32, got {t.dtype}");
            if (!t.is_contiguous()) throw new ArgumentException("multi-tensor kernel: expected contiguous tensors");
        }
    }
}

using System.Runtime.InteropServices;
using RaftPipeline.Modeling.Layers;
using RaftPipeline.Modeling.Lora;
using RaftPipeline.Modeling.Quantization;
using TorchSharp;
using static TorchSharp.torch;

namespace RaftPipeline.Modeling.Native.Cuda.Decode;

/// <summary>
/// One group of projections that the decode step reads with one GEMM launch (q|k|v, gate|up, o, down, lm_head): either
/// dense bf16 rows (<see cref="Dense"/>) or NF4 descriptors (<see cref="Nf4"/>, indices into <see cref="DecodeWeights.Nf4Table"/>).
/// </summary>
sealed record ProjectionGroup(IntPtr[] Dense, int[] Nf4, int[] Rows, int InFeatures)
{
    public bool IsNf4 => Nf4.Length > 0;
    public int TotalRows => Rows.Sum();
}

/// <summary>
/// The weights of the decode step, as the kernels read them in place: a plain bf16 weight is read where it lies; an NF4
/// weight through its 4-bit codes and (double-quantized) statistics; a LoRA slot is merged once at session start
/// (scaling · B·A added to its base weight in fp32, then bf16: a dense copy the session owns, NF4 bases included).
/// A group whose members are not all NF4 is read dense (the NF4 members dequantized once into owned bf16 copies).
/// </summary>
sealed class DecodeWeights : IDisposable
{
    // Tensors created for the session (merged LoRA weights, fp32 statistics, the descriptor table): disposed with it.
    readonly List<Tensor> _owned = [];
    readonly List<byte[]> _descriptors = [];
    Tensor? _table;

    /// <summary>Bytes of one NF4 descriptor (struct Nf4Weight in decode_gemv.cu: six pointers and four 32-bit fields).</summary>
    const int DescriptorBytes = 64;

    /// <summary>Device address of the NF4 descriptor table (IntPtr.Zero when no group is NF4).</summary>
    public IntPtr Nf4Table => _table is null ? IntPtr.Zero : TensorMemory.Address(_table);

    /// <summary>Extra bytes this session holds for weights (merged or dequantized copies).</summary>
    public long OwnedBytes => _owned.Sum(t => t.numel() * t.ElementSize);

    public ProjectionGroup Group(params LinearSlot[] slots)
    {
        int inFeatures = checked((int)slots[0].InFeatures);
        if (slots.Any(s => s.InFeatures != inFeatures))
            throw new NotSupportedException("projections of one group must read the same input width");
        var rows = slots.Select(s => checked((int)s.OutFeatures)).ToArray();
        if (slots.All(s => s is Nf4Linear n && Nf4Readable(n) is null))
            return new ProjectionGroup([], slots.Select(s => AddNf4(((Nf4Linear)s).Weight)).ToArray(), rows, inFeatures);
        return new ProjectionGroup(slots.Select(DenseAddress).ToArray(), [], rows, inFeatures);
    }

    /// <summary>A group of one dense bf16 weight [out, in] that the caller keeps alive (the output head).</summary>
    public ProjectionGroup DenseGroup(Tensor weight) =>
        new([Checked(weight, "the output head")], [], [checked((int)weight.shape[0])], checked((int)weight.shape[1]));

    /// <summary>Why <paramref name="slot"/>'s NF4 weight cannot be read by the kernel directly, or null.</summary>
    static string? Nf4Readable(Nf4Linear slot)
    {
        var w = slot.Weight;
        if (slot.HasBias) return "a bias";
        if (slot.ComputeDType != ScalarType.BFloat16) return $"compute dtype {slot.ComputeDType}";
        if (w.BlockSize != 64) return $"block size {w.BlockSize}";
        if (w.Shape[1] % 64 != 0) return $"{w.Shape[1]} input features (not a multiple of 64)";
        return null;
    }

    IntPtr DenseAddress(LinearSlot slot)
    {
        if (slot is Linear { bias: null } plain && plain.weight.dtype == ScalarType.BFloat16 && plain.weight.is_contiguous())
            return Checked(plain.weight, "a projection");
        if (slot is Linear { bias: not null } || slot is Nf4Linear { HasBias: true })
            throw new NotSupportedException("projections with a bias are not covered by the CUDA decode kernels");
        if (slot is LoraLinear { BaseLayer: Linear { bias: not null } } or LoraLinear { BaseLayer: Nf4Linear { HasBias: true } })
            throw new NotSupportedException("projections with a bias are not covered by the CUDA decode kernels");
        // A merged copy costs out × in bf16 values of device memory (plus an fp32 intermediate while merging): leave
        // the session, and so the generation to the libtorch path, rather than run the device out of memory.
        long bytes = slot.OutFeatures * slot.InFeatures * 2;
        int ordinal = Math.Max(0, slot.parameters().Concat(slot.buffers()).First().device.index);
        if (CudaMemory.FreeBytes(ordinal) < 3 * bytes + (1L << 30))
            throw new NotSupportedException($"not enough free GPU memory for the session's merged copy of a {slot.OutFeatures}×{slot.InFeatures} projection");
        using var noGrad = torch.no_grad();
        var dense = slot.DenseWeight(ScalarType.BFloat16).contiguous().DetachFromDisposeScope();
        _owned.Add(dense);
        return Checked(dense, "a merged projection");
    }

    static IntPtr Checked(Tensor weight, string what)
    {
        if (weight.dtype != ScalarType.BFloat16 || weight.device_type != DeviceType.CUDA || !weight.is_contiguous())
            throw new NotSupportedException($"{what} is not a contiguous bf16 CUDA tensor");
        var address = TensorMemory.Address(weight);
        if (address % 16 != 0 || weight.shape[1] % 8 != 0)
            throw new NotSupportedException($"{what} is not 16-byte aligned rows (in features {weight.shape[1]})");
        return address;
    }

    int AddNf4(Nf4Tensor w)
    {
        Tensor Keep(Tensor t)
        {
            if (t.dtype == ScalarType.Float32 && t.is_contiguous()) return t;
            var copy = t.to(ScalarType.Float32).contiguous().DetachFromDisposeScope();
            _owned.Add(copy);
            return copy;
        }
        var bytes = new byte[DescriptorBytes];
        void Put(int offset, IntPtr p) => BitConverter.TryWriteBytes(bytes.AsSpan(offset), p.ToInt64());
        var packed = w.Packed.contiguous();
        if (!ReferenceEquals(packed, w.Packed)) _owned.Add(packed.DetachFromDisposeScope());
        Put(0, TensorMemory.Address(packed));
        if (w.Nested)
        {
            var codes = w.Absmax.contiguous();
            if (!ReferenceEquals(codes, w.Absmax)) _owned.Add(codes.DetachFromDisposeScope());
            Put(8, IntPtr.Zero);
            Put(16, TensorMemory.Address(codes));
            Put(24, TensorMemory.Address(Keep(w.NestedQuantMap!)));
            Put(32, TensorMemory.Address(Keep(w.NestedAbsmax!)));
        }
        else
        {
            Put(8, TensorMemory.Address(Keep(w.Absmax)));
        }
        Put(40, TensorMemory.Address(Keep(w.QuantMap)));
        BitConverter.TryWriteBytes(bytes.AsSpan(48), w.Nested ? w.NestedBlockSize : 1);
        BitConverter.TryWriteBytes(bytes.AsSpan(52), w.Nested ? w.NestedOffset : 0f);
        BitConverter.TryWriteBytes(bytes.AsSpan(56), w.BlockSize);
        if (TensorMemory.Address(packed) % 16 != 0) throw new NotSupportedException("NF4 codes are not 16-byte aligned");
        _descriptors.Add(bytes);
        return _descriptors.Count - 1;
    }

    /// <summary>Uploads the NF4 descriptors (call once every group is built).</summary>
    public void Upload(Device device)
    {
        if (_descriptors.Count == 0) return;
        var all = _descriptors.SelectMany(d => d).ToArray();
        _table = torch.tensor(all, ScalarType.Byte).to(device).DetachFromDisposeScope();
        _owned.Add(_table);
    }

    public void Dispose()
    {
        foreach (var t in _owned) t.Dispose();
        _owned.Clear();
    }
}

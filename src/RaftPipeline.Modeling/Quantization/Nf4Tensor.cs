using TorchSharp;
using static TorchSharp.torch;

namespace RaftPipeline.Modeling.Quantization;

/// <summary>
/// One weight matrix in bitsandbytes' NF4 layout (blocksize 64), optionally with double-quantized statistics.
/// Field names follow QuantState.as_dict (bitsandbytes/functional.py): the packed codes go under the weight's own
/// key, the rest under weight.absmax, weight.quant_map, weight.nested_absmax, weight.nested_quant_map.
/// </summary>
public sealed class Nf4Tensor : IDisposable
{
    /// <summary>Two codes per byte, the element at the even index in the HIGH nibble; uint8 [ceil(n/2), 1].</summary>
    public required Tensor Packed { get; init; }
    /// <summary>Per 64-block scale: uint8 codes into <see cref="NestedQuantMap"/> when nested, else fp32.</summary>
    public required Tensor Absmax { get; init; }
    /// <summary>The 16 NF4 values, fp32.</summary>
    public required Tensor QuantMap { get; init; }
    /// <summary>Per 256-block scale of the centered absmax, fp32; null without double quantization.</summary>
    public Tensor? NestedAbsmax { get; init; }
    /// <summary>bitsandbytes' signed dynamic 8-bit map, fp32 [256]; null without double quantization.</summary>
    public Tensor? NestedQuantMap { get; init; }
    /// <summary>The mean of the fp32 absmax that was subtracted before double quantization.</summary>
    public float NestedOffset { get; init; }
    /// <summary>The original weight's shape, e.g. [out, in].</summary>
    public required long[] Shape { get; init; }
    /// <summary>The original weight's dtype as bitsandbytes writes it ("bfloat16", "float16", "float32").</summary>
    public required string DType { get; init; }
    public int BlockSize { get; init; } = Nf4Quantizer.BlockSize;
    public int NestedBlockSize { get; init; } = Nf4Quantizer.NestedBlockSize;

    public bool Nested => NestedAbsmax is not null;
    public long ElementCount => Shape.Aggregate(1L, (a, b) => a * b);

    /// <summary>Bytes held, codes and every statistic included (the offset counted as one fp32).</summary>
    public long StorageBytes
    {
        get
        {
            static long Bytes(Tensor? t) => t is null ? 0 : t.numel() * t.ElementSize;
            return Bytes(Packed) + Bytes(Absmax) + Bytes(QuantMap) + Bytes(NestedAbsmax) + Bytes(NestedQuantMap)
                   + (Nested ? sizeof(float) : 0);
        }
    }

    public Nf4Tensor To(Device device) => new()
    {
        Packed = Packed.to(device), Absmax = Absmax.to(device), QuantMap = QuantMap.to(device),
        NestedAbsmax = NestedAbsmax?.to(device), NestedQuantMap = NestedQuantMap?.to(device),
        NestedOffset = NestedOffset, Shape = Shape, DType = DType, BlockSize = BlockSize, NestedBlockSize = NestedBlockSize,
    };

    /// <summary>Moves every tensor out of the current dispose scope (they belong to this object).</summary>
    public Nf4Tensor DetachFromScopes()
    {
        foreach (var t in Tensors()) t.DetachFromDisposeScope();
        return this;
    }

    IEnumerable<Tensor> Tensors()
    {
        yield return Packed;
        yield return Absmax;
        yield return QuantMap;
        if (NestedAbsmax is not null) yield return NestedAbsmax;
        if (NestedQuantMap is not null) yield return NestedQuantMap;
    }

    public void Dispose()
    {
        foreach (var t in Tensors()) t.Dispose();
    }
}

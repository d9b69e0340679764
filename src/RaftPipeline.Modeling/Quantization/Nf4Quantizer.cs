using TorchSharp;
using static TorchSharp.torch;

namespace RaftPipeline.Modeling.Quantization;

/// <summary>
/// NF4 quantization as bitsandbytes does it (functional.py quantize_4bit / dequantize_4bit, the CUDA kernels
/// kQuantizeBlockwise + dQuantizeNF4 and the torch backend backends/default/ops.py, bitsandbytes@95f9af3):
/// per block of 64 the absmax is taken, values are multiplied by its fp32 reciprocal (as the CUDA kernel does),
/// mapped to the nearest NF4 code (ties to the lower code) and packed two per byte, first element high nibble.
/// Double quantization: absmax - mean(absmax), quantized blockwise (256) to 8 bits with the signed dynamic map.
/// All statistics are fp32; dequantization multiplies in fp32 and casts to the compute dtype at the end, as the
/// kernels do. Every step is a whole-tensor torch op, so it runs unchanged on CPU and CUDA.
/// </summary>
public static class Nf4Quantizer
{
    public const int BlockSize = 64;
    public const int NestedBlockSize = 256;

    /// <summary>Quantizes <paramref name="weight"/> (bf16/fp16/fp32, any shape) on its own device.</summary>
    public static Nf4Tensor Quantize(Tensor weight, bool doubleQuant = true)
    {
        var dtypeName = weight.dtype switch
        {
            ScalarType.BFloat16 => "bfloat16",
            ScalarType.Float16 => "float16",
            ScalarType.Float32 => "float32",
            _ => throw new ArgumentException($"NF4 quantization takes bf16, fp16 or fp32 weights, got {weight.dtype}"),
        };
        using var scope = NewDisposeScope();
        var device = weight.device;
        var codeBook = torch.tensor(Nf4CodeBook.Values.ToArray(), device: device);
        var thresholds = torch.tensor(Nf4CodeBook.Thresholds(), device: device);

        var (codes, absmax) = QuantizeBlockwise(weight.reshape(-1).to(ScalarType.Float32), BlockSize, thresholds);
        long n = codes.shape[0];
        if (n % 2 == 1) codes = torch.nn.functional.pad(codes, new long[] { 0, 1 });
        var pairs = codes.to(ScalarType.Byte).reshape(-1, 2);
        // Even element in the high nibble: (q[::2] << 4) | q[1::2] in the torch backend, "<< 4" first in the kernel.
        var packed = (pairs.select(1, 0) * 16 + pairs.select(1, 1)).unsqueeze(1);

        Nf4Tensor result;
        if (doubleQuant)
        {
            var dynamic = DynamicMap.CreateSigned().to(device);
            var offset = absmax.mean();
            var dynThresholds = (dynamic[..^1] + dynamic[1..]) / 2;
            var (qAbsmax, nestedAbsmax) = QuantizeBlockwise(absmax - offset, NestedBlockSize, dynThresholds);
            result = new Nf4Tensor
            {
                Packed = packed, Absmax = qAbsmax.to(ScalarType.Byte), QuantMap = codeBook,
                NestedAbsmax = nestedAbsmax, NestedQuantMap = dynamic, NestedOffset = offset.item<float>(),
                Shape = weight.shape, DType = dtypeName,
            };
        }
        else
        {
            result = new Nf4Tensor { Packed = packed, Absmax = absmax, QuantMap = codeBook, Shape = weight.shape, DType = dtypeName };
        }
        return result.DetachFromScopes();
    }

    /// <summary>
    /// Blockwise absmax quantization of a flat fp32 tensor against sorted thresholds: returns (int32 codes [n],
    /// fp32 absmax [ceil(n/blocksize)]). An all-zero block keeps absmax 0 and codes the value 0 (torch backend:
    /// absmax.clamp(min=1e-38) before the reciprocal).
    /// </summary>
    static (Tensor Codes, Tensor Absmax) QuantizeBlockwise(Tensor flat, int blockSize, Tensor thresholds)
    {
        long n = flat.shape[0];
        long blocks = (n + blockSize - 1) / blockSize;
        long padded = blocks * blockSize;
        // Zero padding leaves the last block's absmax unchanged (|0| never exceeds a max of absolute values).
        var x = padded == n ? flat : torch.nn.functional.pad(flat, new long[] { 0, padded - n });
        var blocked = x.reshape(blocks, blockSize);
        var absmax = blocked.abs().amax(new long[] { 1 });
        var scaled = (blocked * absmax.clamp_min(1e-38).reciprocal().unsqueeze(1)).clamp(-1, 1).reshape(-1);
        if (padded != n) scaled = scaled.narrow(0, 0, n);
        var codes = torch.bucketize(scaled, thresholds, outInt32: true, right: false);
        return (codes, absmax);
    }

    /// <summary>The fp32 per-64-block scales, undoing double quantization when present.</summary>
    public static Tensor DequantizeAbsmax(Nf4Tensor q)
    {
        if (!q.Nested) return q.Absmax.to(ScalarType.Float32);
        using var scope = NewDisposeScope();
        long blocks = q.Absmax.shape[0];
        var values = q.NestedQuantMap!.index_select(0, q.Absmax.to(ScalarType.Int32));
        var scales = q.NestedAbsmax!.repeat_interleave(q.NestedBlockSize, 0).narrow(0, 0, blocks);
        return (values * scales + q.NestedOffset).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// A [256, 2] table giving both NF4 values of every possible byte (high nibble first), so dequantization is a
    /// single gather over the packed bytes instead of two shifts and two lookups.
    /// </summary>
    public static Tensor PairTable(Tensor quantMap)
    {
        using var scope = NewDisposeScope();
        var bytes = torch.arange(256, ScalarType.Int32, quantMap.device);
        var hi = quantMap.index_select(0, bytes.div(16, RoundingMode.floor));
        var lo = quantMap.index_select(0, bytes % 16);
        return torch.stack(new[] { hi, lo }, 1).MoveToOuterDisposeScope();
    }

    /// <summary>Dense weight in <paramref name="dtype"/>, same shape as the original.</summary>
    public static Tensor Dequantize(Nf4Tensor q, ScalarType dtype, Tensor? pairTable = null)
    {
        using var scope = NewDisposeScope();
        var table = pairTable ?? PairTable(q.QuantMap);
        var absmax = DequantizeAbsmax(q);
        long n = q.ElementCount;
        long blocks = absmax.shape[0];
        var values = table.index_select(0, q.Packed.reshape(-1).to(ScalarType.Int32)).reshape(-1);
        long padded = blocks * q.BlockSize;
        if (values.shape[0] > padded) values = values.narrow(0, 0, padded);
        else if (values.shape[0] < padded) values = torch.nn.functional.pad(values, new long[] { 0, padded - values.shape[0] });
        var dense = (values.reshape(blocks, q.BlockSize) * absmax.unsqueeze(1)).reshape(-1);
        if (padded != n) dense = dense.narrow(0, 0, n);
        return dense.reshape(q.Shape).to(dtype).MoveToOuterDisposeScope();
    }
}

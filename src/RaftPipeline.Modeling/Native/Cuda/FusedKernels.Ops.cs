using RaftPipeline.Modeling.Quantization;
using TorchSharp;
using static TorchSharp.torch;

namespace RaftPipeline.Modeling.Native.Cuda;

/// <summary>The launches: shapes and dtypes checked here, outputs allocated by libtorch on the inputs' device.</summary>
public sealed partial class FusedKernels
{
    const int Threads = 256;
    const int RowsPerBlock = Threads / 32; // one warp per row

    /// <summary>The dense bf16 weight of <paramref name="q"/> (same result as <see cref="Nf4Quantizer.Dequantize"/>).</summary>
    public Tensor Nf4DequantizeBf16(Nf4Tensor q, Tensor? into = null)
    {
        if (q.BlockSize % 2 != 0) throw new ArgumentException($"NF4 block size {q.BlockSize} must be even");
        using var scope = NewDisposeScope();
        var device = q.Packed.device;
        if (into is not null && (into.dtype != ScalarType.BFloat16 || !into.is_contiguous() || into.numel() != q.ElementCount))
            throw new ArgumentException($"NF4 dequantize: the destination must be a contiguous bf16 tensor of {q.ElementCount} values");
        var output = into ?? empty(q.Shape, ScalarType.BFloat16, device);
        var map = Fp32(q.QuantMap);
        long n = q.ElementCount;
        if (q.Nested)
        {
            var codes = q.Absmax.contiguous();
            var nestedMap = Fp32(q.NestedQuantMap!);
            var nestedAbsmax = Fp32(q.NestedAbsmax!);
            Module.Launch("nf4_dequantize_bf16", Blocks((n + 1) / 2, Threads), Threads,
                Ptr(q.Packed), n, q.BlockSize, Ptr(map), IntPtr.Zero, Ptr(codes), Ptr(nestedMap), Ptr(nestedAbsmax),
                q.NestedBlockSize, q.NestedOffset, Ptr(output));
        }
        else
        {
            var absmax = Fp32(q.Absmax);
            Module.Launch("nf4_dequantize_bf16", Blocks((n + 1) / 2, Threads), Threads,
                Ptr(q.Packed), n, q.BlockSize, Ptr(map), Ptr(absmax), IntPtr.Zero, IntPtr.Zero, IntPtr.Zero,
                1, 0f, Ptr(output));
        }
        return into ?? output.MoveToOuterDisposeScope(); // the caller's destination stays in the caller's scope
    }

    /// <summary>RMSNorm of bf16 rows (transformers' order of roundings).</summary>
    public Tensor RmsNormForwardBf16(Tensor x, Tensor weight, double eps)
    {
        RequireBf16(x, weight);
        int cols = (int)x.shape[^1];
        if (weight.numel() != cols) throw new ArgumentException($"RMSNorm weight has {weight.numel()} values for rows of {cols}");
        int rows = checked((int)(x.numel() / cols));
        var y = empty_like(x);
        Module.Launch("rms_norm_forward_bf16", Blocks(rows, RowsPerBlock), Threads, Ptr(x), Ptr(weight), Ptr(y), rows, cols, (float)eps);
        return y;
    }

    /// <summary>dL/dx of RMSNorm given dL/dy (the weight is frozen: no weight gradient).</summary>
    public Tensor RmsNormBackwardBf16(Tensor gradY, Tensor x, Tensor weight, double eps)
    {
        RequireBf16(gradY, x, weight);
        int cols = (int)x.shape[^1];
        int rows = checked((int)(x.numel() / cols));
        var gradX = empty_like(x);
        Module.Launch("rms_norm_backward_bf16", Blocks(rows, RowsPerBlock), Threads,
            Ptr(gradY), Ptr(x), Ptr(weight), Ptr(gradX), rows, cols, (float)eps);
        return gradX;
    }

    /// <summary>silu(gate) · up for bf16 tensors of one shape.</summary>
    public Tensor SwiGluForwardBf16(Tensor gate, Tensor up)
    {
        RequireBf16(gate, up);
        SameShape(gate, up);
        var output = empty_like(gate);
        int cols = (int)gate.shape[^1];
        long n = gate.numel();
        Module.Launch("swiglu_forward_bf16", Blocks(n, Threads), Threads, Ptr(gate), Ptr(up), Ptr(output), n, cols, (long)cols);
        return output;
    }

    /// <summary>(dL/dgate, dL/dup) of silu(gate) · up given dL/dout.</summary>
    public (Tensor GradGate, Tensor GradUp) SwiGluBackwardBf16(Tensor grad, Tensor gate, Tensor up)
    {
        RequireBf16(grad, gate, up);
        SameShape(gate, up);
        SameShape(grad, gate);
        var gradGate = empty_like(gate);
        var gradUp = empty_like(up);
        int cols = (int)gate.shape[^1];
        long n = gate.numel();
        Module.Launch("swiglu_backward_bf16", Blocks(n, Threads), Threads,
            Ptr(grad), Ptr(gate), Ptr(up), Ptr(gradGate), Ptr(gradUp), n, cols, (long)cols);
        return (gradGate, gradUp);
    }

    /// <summary>silu(gate) · up from one fused gate|up projection output [.., 2·I]; returns [.., I].</summary>
    public Tensor SwiGluForwardFusedBf16(Tensor gateUp)
    {
        RequireBf16(gateUp);
        long[] shape = gateUp.shape;
        int cols = checked((int)(shape[^1] / 2));
        var output = empty([.. shape[..^1], cols], ScalarType.BFloat16, gateUp.device);
        long n = output.numel();
        var gate = Ptr(gateUp);
        Module.Launch("swiglu_forward_bf16", Blocks(n, Threads), Threads, gate, gate + 2 * cols, Ptr(output), n, cols, 2L * cols);
        return output;
    }

    /// <summary>dL/d(gate|up) of <see cref="SwiGluForwardFusedBf16"/> given dL/dout, in the fused layout.</summary>
    public Tensor SwiGluBackwardFusedBf16(Tensor grad, Tensor gateUp)
    {
        RequireBf16(grad, gateUp);
        int cols = (int)grad.shape[^1];
        var gradGateUp = empty_like(gateUp);
        long n = grad.numel();
        IntPtr gate = Ptr(gateUp), gradGate = Ptr(gradGateUp);
        Module.Launch("swiglu_backward_bf16", Blocks(n, Threads), Threads,
            Ptr(grad), gate, gate + 2 * cols, gradGate, gradGate + 2 * cols, n, cols, 2L * cols);
        return gradGateUp;
    }

    /// <summary>RoPE on x [B, T, H, D] with cos/sin [B, T, D] (all bf16, contiguous); returns [B, T, H, D].</summary>
    public Tensor RopeForwardBf16(Tensor x, Tensor cos, Tensor sin) => Rope("rope_forward_bf16", x, cos, sin);

    /// <summary>dL/dx of <see cref="RopeForwardBf16"/> given dL/dout, same layout.</summary>
    public Tensor RopeBackwardBf16(Tensor grad, Tensor cos, Tensor sin) => Rope("rope_backward_bf16", grad, cos, sin);

    Tensor Rope(string kernel, Tensor x, Tensor cos, Tensor sin)
    {
        RequireBf16(x, cos, sin);
        // Each shape read is a native call per dimension: read every shape once (this runs twice per layer and step).
        long[] xs = x.shape, cs = cos.shape, ss = sin.shape;
        if (xs.Length != 4 || cs.Length != 3 || cs[0] != xs[0] || cs[1] != xs[1] || cs[2] != xs[3]
            || !cs.AsSpan().SequenceEqual(ss) || xs[3] % 2 != 0)
            throw new ArgumentException($"RoPE kernel: x [{string.Join(", ", xs)}] (B, T, H, D) and cos/sin [{string.Join(", ", cs)}] (B, T, D) do not match");
        var output = empty_like(x);
        long n = xs[0] * xs[1] * xs[2] * xs[3];
        Module.Launch(kernel, Blocks(n, Threads), Threads, Ptr(x), Ptr(cos), Ptr(sin), Ptr(output), n, (int)xs[2], (int)xs[3]);
        return output;
    }

    /// <summary>Rows of up to this many values fit the attention-input kernels' shared buffers.</summary>
    public const int AttentionInputsMaxHeadDim = 256;

    /// <summary>
    /// q/k per-head RMSNorm, RoPE, [B, T, H, D] → [B, H, T, D] and GQA head repetition in one launch
    /// (kernels/attention_inputs.cu). q [B, T, heads, D], k and v [B, T, kvHeads, D], cos/sin [B, T, D], all bf16 and
    /// contiguous; returns q, k, v as SDPA takes them, [B, heads, T, D] each.
    /// </summary>
    public (Tensor Q, Tensor K, Tensor V) AttentionInputsForwardBf16(Tensor q, Tensor k, Tensor v, Tensor qWeight,
        Tensor kWeight, Tensor cos, Tensor sin, double eps)
    {
        RequireBf16(q, k, v, qWeight, kWeight, cos, sin);
        var (b, t, heads, kvHeads, dim) = AttentionShape(q, k, v, cos, sin);
        long[] outShape = [b, heads, t, dim];
        var qo = empty(outShape, ScalarType.BFloat16, q.device);
        var ko = empty(outShape, ScalarType.BFloat16, q.device);
        var vo = empty(outShape, ScalarType.BFloat16, q.device);
        long rows = b * t * (heads + 2L * kvHeads);
        Module.Launch("attention_inputs_forward_bf16", Blocks(rows, RowsPerBlock), Threads, Ptr(q), Ptr(k), Ptr(v),
            Ptr(qWeight), Ptr(kWeight), Ptr(cos), Ptr(sin), Ptr(qo), Ptr(ko), Ptr(vo), rows, (int)t, heads, kvHeads, dim, (float)eps,
            (long)heads * dim, (long)kvHeads * dim);
        return (qo, ko, vo);
    }

    /// <summary>The gradients of <see cref="AttentionInputsForwardBf16"/>'s inputs q, k, v (the norm weights are frozen).</summary>
    public (Tensor Q, Tensor K, Tensor V) AttentionInputsBackwardBf16(Tensor gradQ, Tensor gradK, Tensor gradV, Tensor q,
        Tensor k, Tensor qWeight, Tensor kWeight, Tensor cos, Tensor sin, double eps)
    {
        RequireBf16(gradQ, gradK, gradV, q, k, qWeight, kWeight, cos, sin);
        var (b, t, heads, kvHeads, dim) = AttentionShape(q, k, k, cos, sin);
        var gq = empty_like(q);
        var gk = empty_like(k);
        var gv = empty_like(k);
        long rows = b * t * (heads + 2L * kvHeads);
        Module.Launch("attention_inputs_backward_bf16", Blocks(rows, RowsPerBlock), Threads, Ptr(gradQ), Ptr(gradK), Ptr(gradV),
            Ptr(q), Ptr(k), Ptr(qWeight), Ptr(kWeight), Ptr(cos), Ptr(sin), Ptr(gq), Ptr(gk), Ptr(gv), rows, (int)t, heads, kvHeads, dim, (float)eps,
            (long)heads * dim, (long)kvHeads * dim);
        return (gq, gk, gv);
    }

    /// <summary>
    /// <see cref="AttentionInputsForwardBf16"/> on one fused q|k|v projection output qkv [B, T, (heads + 2·kvHeads)·D].
    /// </summary>
    public (Tensor Q, Tensor K, Tensor V) AttentionInputsForwardFusedBf16(Tensor qkv, int heads, int kvHeads, Tensor qWeight,
        Tensor kWeight, Tensor cos, Tensor sin, double eps)
    {
        RequireBf16(qkv, qWeight, kWeight, cos, sin);
        var (b, t, dim) = FusedAttentionShape(qkv, heads, kvHeads, cos, sin);
        long[] outShape = [b, heads, t, dim];
        var qo = empty(outShape, ScalarType.BFloat16, qkv.device);
        var ko = empty(outShape, ScalarType.BFloat16, qkv.device);
        var vo = empty(outShape, ScalarType.BFloat16, qkv.device);
        long rows = b * t * (heads + 2L * kvHeads), ld = (heads + 2L * kvHeads) * dim;
        IntPtr q = Ptr(qkv), k = q + 2 * heads * dim, v = k + 2 * kvHeads * dim;
        Module.Launch("attention_inputs_forward_bf16", Blocks(rows, RowsPerBlock), Threads, q, k, v,
            Ptr(qWeight), Ptr(kWeight), Ptr(cos), Ptr(sin), Ptr(qo), Ptr(ko), Ptr(vo), rows, (int)t, heads, kvHeads, dim, (float)eps, ld, ld);
        return (qo, ko, vo);
    }

    /// <summary>The gradient of <see cref="AttentionInputsForwardFusedBf16"/>'s input, in its fused layout.</summary>
    public Tensor AttentionInputsBackwardFusedBf16(Tensor gradQ, Tensor gradK, Tensor gradV, Tensor qkv, int heads, int kvHeads,
        Tensor qWeight, Tensor kWeight, Tensor cos, Tensor sin, double eps)
    {
        RequireBf16(gradQ, gradK, gradV, qkv, qWeight, kWeight, cos, sin);
        var (b, t, dim) = FusedAttentionShape(qkv, heads, kvHeads, cos, sin);
        var grad = empty_like(qkv);
        long rows = b * t * (heads + 2L * kvHeads), ld = (heads + 2L * kvHeads) * dim;
        IntPtr q = Ptr(qkv), k = q + 2 * heads * dim;
        IntPtr gq = Ptr(grad), gk = gq + 2 * heads * dim, gv = gk + 2 * kvHeads * dim;
        Module.Launch("attention_inputs_backward_bf16", Blocks(rows, RowsPerBlock), Threads, Ptr(gradQ), Ptr(gradK), Ptr(gradV),
            q, k, Ptr(qWeight), Ptr(kWeight), Ptr(cos), Ptr(sin), gq, gk, gv, rows, (int)t, heads, kvHeads, dim, (float)eps, ld, ld);
        return grad;
    }

    static (long B, long T, int Dim) FusedAttentionShape(Tensor qkv, int heads, int kvHeads, Tensor cos, Tensor sin)
    {
        long[] s = qkv.shape, cs = cos.shape;
        int dim = cs.Length == 3 ? (int)cs[2] : 0;
        bool ok = s.Length == 3 && cs.Length == 3 && cs[0] == s[0] && cs[1] == s[1] && cs.AsSpan().SequenceEqual(sin.shape)
            && kvHeads > 0 && heads % kvHeads == 0 && dim % 2 == 0 && dim > 0 && dim <= AttentionInputsMaxHeadDim
            && s[2] == (heads + 2L * kvHeads) * dim;
        if (!ok)
            throw new ArgumentException($"attention-input kernel: qkv [{string.Join(", ", s)}] is not [B, T, ({heads} + 2·{kvHeads})·D] for cos/sin [{string.Join(", ", cs)}] (B, T, D)");
        return (s[0], s[1], dim);
    }

    static (long B, long T, int Heads, int KvHeads, int Dim) AttentionShape(Tensor q, Tensor k, Tensor v, Tensor cos, Tensor sin)
    {
        long[] qs = q.shape, ks = k.shape, vs = v.shape, cs = cos.shape;
        bool ok = qs.Length == 4 && ks.Length == 4 && ks.AsSpan().SequenceEqual(vs) && cs.Length == 3
            && ks[0] == qs[0] && ks[1] == qs[1] && ks[3] == qs[3] && cs[0] == qs[0] && cs[1] == qs[1] && cs[2] == qs[3]
            && cs.AsSpan().SequenceEqual(sin.shape) && ks[2] > 0 && qs[2] % ks[2] == 0 && qs[3] % 2 == 0
            && qs[3] <= AttentionInputsMaxHeadDim;
        if (!ok)
            throw new ArgumentException($"attention-input kernel: q [{string.Join(", ", qs)}], k [{string.Join(", ", ks)}], v [{string.Join(", ", vs)}] " +
                $"(B, T, heads, D; heads a multiple of k's, D even and ≤ {AttentionInputsMaxHeadDim}) and cos/sin [{string.Join(", ", cs)}] (B, T, D) do not match");
        return (qs[0], qs[1], (int)qs[2], (int)ks[2], (int)qs[3]);
    }

    static long Blocks(long items, int perBlock) => (items + perBlock - 1) / perBlock;

    static IntPtr Ptr(Tensor t) => Native.TensorMemory.Address(t);

    static Tensor Fp32(Tensor t) => t.dtype == ScalarType.Float32 && t.is_contiguous() ? t : t.to(ScalarType.Float32).contiguous();

    static void RequireBf16(params Tensor[] tensors)
    {
        foreach (var t in tensors)
        {
            if (t.dtype != ScalarType.BFloat16) throw new ArgumentException($"fused kernel: expected bf16, got {t.dtype}");
            if (!t.is_contiguous()) throw new ArgumentException("fused kernel: expected a contiguous tensor");
        }
    }

    static void SameShape(Tensor a, Tensor b)
    {
        if (!a.shape.SequenceEqual(b.shape))
            throw new ArgumentException($"fused kernel: shapes [{string.Join(", ", a.shape)}] and [{string.Join(", ", b.shape)}] differ");
    }
}

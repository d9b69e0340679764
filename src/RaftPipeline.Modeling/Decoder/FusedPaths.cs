using RaftPipeline.Modeling.Lora;
using RaftPipeline.Modeling.Native.Cuda;
using TorchSharp;
using static TorchSharp.torch;

namespace RaftPipeline.Modeling.Decoder;

/// <summary>
/// The one place where the fused CUDA kernels (<see cref="FusedKernels"/>) are chosen for the reference blocks, as
/// transformers plugs kernels in from outside its modeling files (<c>use_kernel_forward_from_hub</c>). Each method
/// returns the fused result when its kernel covers the case, else null: the caller then runs its own reference math,
/// which is the definition (and the only path on the CPU). What each kernel does not cover, and so falls back:
/// <list type="bullet">
/// <item>every kernel: anything but bf16 on a CUDA device;</item>
/// <item>RMSNorm: a trainable weight, and Gemma's (1 + weight) form;</item>
/// <item>RoPE: partial rotary (cos/sin narrower than the head); scaled RoPE types are fine (the kernel reads cos/sin as given);</item>
/// <item>SwiGLU: any activation but silu;</item>
/// <item>attention inputs (q/k norm + RoPE of a q|k|v row): no q/k norm, Gemma's norm form, a trainable norm, a KV cache,
/// partial rotary, head_dim above the kernel's limit.</item>
/// <item>Qwen3-MoE's expert block (<see cref="SparseMoeBlock"/>): no kernel; it never calls here and runs its reference math
/// on every device (the layer's attention and norms still come here).</item>
/// </list>
/// </summary>
public static class FusedPaths
{
    static FusedKernels? Bf16Cuda(Tensor x) =>
        x.device_type == DeviceType.CUDA && x.dtype == ScalarType.BFloat16 ? FusedKernels.For(x.device) : null;

    /// <summary>RMSNorm (x normalised in fp32, cast back, times weight) with a frozen bf16 weight.</summary>
    public static Tensor? RmsNorm(Tensor x, Tensor weight, double eps, double weightOffset)
    {
        if (weightOffset != 0 || weight.dtype != ScalarType.BFloat16 || weight.requires_grad || Bf16Cuda(x) is not { } kernels)
            return null;
        var input = x.contiguous();
        if (is_grad_enabled() && input.requires_grad) return RmsNormFunction.apply(input, weight, eps, kernels);
        return kernels.RmsNormForwardBf16(input, weight, eps);
    }

    /// <summary>RoPE on [B, T, heads, d] (the projection's layout), returned as [B, heads, T, d], for a full-width rotation.</summary>
    public static Tensor? RotateProjection(Tensor bthd, Tensor cos, Tensor sin)
    {
        if (cos.dtype != ScalarType.BFloat16 || cos.shape[^1] != bthd.shape[^1] || Bf16Cuda(bthd) is not { } kernels) return null;
        var x = bthd.contiguous();
        var c = cos.contiguous();
        var s = sin.contiguous();
        var rotated = is_grad_enabled() && x.requires_grad ? RopeFunction.apply(x, c, s, kernels) : kernels.RopeForwardBf16(x, c, s);
        return rotated.transpose(1, 2);
    }

    /// <summary>silu(gate) · up from separate gate and up tensors.</summary>
    public static Tensor? SwiGlu(Tensor gate, Tensor up)
    {
        if (up.dtype != ScalarType.BFloat16 || Bf16Cuda(gate) is not { } kernels) return null;
        return is_grad_enabled() && (gate.requires_grad || up.requires_grad)
            ? SwiGluFunction.apply(gate.contiguous(), up.contiguous(), kernels)
            : kernels.SwiGluForwardBf16(gate.contiguous(), up.contiguous());
    }

    /// <summary>silu(gate) · up from one [.., 2·inner] tensor, gate | up (Phi-3's gate_up_proj output).</summary>
    public static Tensor? SwiGluOfStacked(Tensor gateUp)
    {
        if (Bf16Cuda(gateUp) is not { } kernels) return null;
        var stacked = gateUp.contiguous();
        return is_grad_enabled() && stacked.requires_grad ? SwiGluFunction.apply(stacked, kernels) : kernels.SwiGluForwardFusedBf16(stacked);
    }

    /// <summary>silu(gate) · up read in place from a stacked LoRA group's gate|up output (one GEMM for both).</summary>
    public static Tensor? SwiGluStacked(LoraProjectionGroup? group, Tensor x)
    {
        if (group is not { Members.Count: 2 } || !group.Accepts(x) || Bf16Cuda(x) is not { } kernels) return null;
        if (group.ForwardStacked(x) is not { } stacked) return null;
        return is_grad_enabled() && stacked.requires_grad
            ? SwiGluFunction.apply(stacked, kernels)
            : kernels.SwiGluForwardFusedBf16(stacked);
    }

    /// <summary>
    /// q, k, v as SDPA takes them ([B, heads, T, d], k and v repeated for GQA) from one q|k|v row per token: the per-head
    /// q/k RMSNorm and RoPE in one kernel each way. Only for plain-form frozen bf16 q/k norms, full-width RoPE, no cache.
    /// </summary>
    /// <param name="qkv">builds the [B, T, (heads + 2·kvHeads)·d] row (called only when the kernel applies)</param>
    public static (Tensor Q, Tensor K, Tensor V)? AttentionInputs(Tensor x, Func<Tensor> qkv, RmsNorm? qNorm, RmsNorm? kNorm,
        Tensor cos, Tensor sin, int heads, int kvHeads, int headDim)
    {
        if (qNorm is null || kNorm is null || qNorm.WeightOffset != 0 || kNorm.WeightOffset != 0 || qNorm.Eps != kNorm.Eps
            || cos.dtype != ScalarType.BFloat16 || cos.shape[^1] != headDim
            || qNorm.weight.dtype != ScalarType.BFloat16 || kNorm.weight.dtype != ScalarType.BFloat16
            || qNorm.weight.requires_grad || kNorm.weight.requires_grad
            || headDim % 2 != 0 || headDim > FusedKernels.AttentionInputsMaxHeadDim || Bf16Cuda(x) is not { } kernels)
            return null;
        var row = qkv().contiguous();
        var c = cos.contiguous();
        var s = sin.contiguous();
        if (is_grad_enabled() && row.requires_grad)
        {
            var outputs = AttentionInputsFunction.apply(row, qNorm.weight, kNorm.weight, c, s, qNorm.Eps, heads, kvHeads, kernels);
            return (outputs[0], outputs[1], outputs[2]);
        }
        return kernels.AttentionInputsForwardFusedBf16(row, heads, kvHeads, qNorm.weight, kNorm.weight, c, s, qNorm.Eps);
    }
}

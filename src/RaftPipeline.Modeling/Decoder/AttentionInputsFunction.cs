using RaftPipeline.Modeling.Native;
using RaftPipeline.Modeling.Native.Cuda;
using TorchSharp;
using static TorchSharp.torch;

namespace RaftPipeline.Modeling.Decoder;

/// <summary>
/// Qwen3's attention inputs as one CUDA kernel each way (<see cref="FusedKernels.AttentionInputsForwardFusedBf16"/>):
/// q/k per-head RMSNorm (frozen weights), RoPE, the transpose to [B, H, T, D] and GQA's repetition of k and v, from one
/// fused q|k|v projection output [B, T, (H + 2·KV)·D]. Unfused that is two RMSNorm and two RoPE autograd nodes, two
/// repeat_interleave copies, transposes and as many backward nodes per layer; on the Qwen3-4B shape the step waits on
/// the host to launch them. Saves the fused input (the norms' backward recomputes 1/rms from it) and cos/sin.
/// </summary>
sealed class AttentionInputsFunction : autograd.MultiTensorFunction<AttentionInputsFunction>
{
    public override string Name => nameof(AttentionInputsFunction);

    public override List<Tensor> forward(autograd.AutogradContext ctx, params object[] vars)
    {
        Tensor qkv = (Tensor)vars[0], qWeight = (Tensor)vars[1], kWeight = (Tensor)vars[2], cos = (Tensor)vars[3], sin = (Tensor)vars[4];
        var eps = (double)vars[5];
        int heads = (int)vars[6], kvHeads = (int)vars[7];
        var kernels = (FusedKernels)vars[8];
        ctx.save_for_backward([qkv, qWeight, kWeight, cos, sin]);
        ctx.save_data("eps", eps);
        ctx.save_data("heads", heads);
        ctx.save_data("kv_heads", kvHeads);
        ctx.save_data("kernels", kernels);
        var (qo, ko, vo) = kernels.AttentionInputsForwardFusedBf16(qkv, heads, kvHeads, qWeight, kWeight, cos, sin, eps);
        return [qo, ko, vo];
    }

    public override List<Tensor> backward(autograd.AutogradContext ctx, List<Tensor> gradOutputs)
    {
        using var scope = BackwardTensors.Scope(gradOutputs[0]); // see BackwardTensors: this may run on libtorch's device thread
        scope.Attach(gradOutputs[1]);
        scope.Attach(gradOutputs[2]);
        var saved = ctx.get_saved_variables();
        var kernels = (FusedKernels)ctx.get_data("kernels");
        var grad = kernels.AttentionInputsBackwardFusedBf16(gradOutputs[0].contiguous(), gradOutputs[1].contiguous(),
            gradOutputs[2].contiguous(), saved[0], (int)ctx.get_data("heads"), (int)ctx.get_data("kv_heads"),
            saved[1], saved[2], saved[3], saved[4], (double)ctx.get_data("eps"));
        return [BackwardTensors.Return(grad), null!, null!, null!, null!, null!, null!, null!, null!];
    }
}

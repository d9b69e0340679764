using RaftPipeline.Modeling.Native;
using RaftPipeline.Modeling.Native.Cuda;
using TorchSharp;
using static TorchSharp.torch;

namespace RaftPipeline.Modeling.Decoder;

/// <summary>
/// Qwen3's attention inputs as one CUDA kernel each way (<see cref="FusedKernels.AttentionInputsForwardBf16"/>): q/k
/// per-head RMSNorm (frozen weights), RoPE, the transpose to [B, H, T, D] and GQA's repetition of k and v. Unfused that
/// is two RMSNorm and two RoPE autograd nodes, two repeat_interleave copies, transposes and as many backward nodes
/// per layer; on the Qwen3-4B shape the step waits on the host to launch them. Saves q and k (the norms' backward
/// recomputes 1/rms from them, as the unfused RMSNorm function kept them) and cos/sin.
/// </summary>
sealed class AttentionInputsFunction : autograd.MultiTensorFunction<AttentionInputsFunction>
{
    public override string Name => nameof(AttentionInputsFunction);

    public override List<Tensor> forward(autograd.AutogradContext ctx, params object[] vars)
    {
        Tensor q = (Tensor)vars[0], k = (Tensor)vars[1], v = (Tensor)vars[2];
        Tensor qWeight = (Tensor)vars[3], kWeight = (Tensor)vars[4], cos = (Tensor)vars[5], sin = (Tensor)vars[6];
        var eps = (double)vars[7];
        var kernels = (FusedKernels)vars[8];
        ctx.save_for_backward([q, k, qWeight, kWeight, cos, sin]);
        ctx.save_data("eps", eps);
        ctx.save_data("kernels", kernels);
        var (qo, ko, vo) = kernels.AttentionInputsForwardBf16(q, k, v, qWeight, kWeight, cos, sin, eps);
        return [qo, ko, vo];
    }

    public override List<Tensor> backward(autograd.AutogradContext ctx, List<Tensor> gradOutputs)
    {
        using var scope = BackwardTensors.Scope(gradOutputs[0]); // see BackwardTensors: this may run on libtorch's device thread
        scope.Attach(gradOutputs[1]);
        scope.Attach(gradOutputs[2]);
        var saved = ctx.get_saved_variables();
        var kernels = (FusedKernels)ctx.get_data("kernels");
        var (gq, gk, gv) = kernels.AttentionInputsBackwardBf16(gradOutputs[0].contiguous(), gradOutputs[1].contiguous(),
            gradOutputs[2].contiguous(), saved[0], saved[1], saved[2], saved[3], saved[4], saved[5], (double)ctx.get_data("eps"));
        return [BackwardTensors.Return(gq), BackwardTensors.Return(gk), BackwardTensors.Return(gv), null!, null!, null!, null!, null!, null!];
    }
}

using RaftPipeline.Modeling.Native;
using RaftPipeline.Modeling.Native.Cuda;
using TorchSharp;
using static TorchSharp.torch;

namespace RaftPipeline.Modeling.Decoder;

/// <summary>
/// Rotary embedding as one CUDA kernel each way (<see cref="FusedKernels.RopeForwardBf16"/>), on the projection's
/// [B, T, H, D] layout: the unfused form is a negation, a concatenation, two products and a sum per q and per k,
/// and as many again in backward. Saves only cos and sin (the backward needs nothing of x).
/// </summary>
sealed class RopeFunction : autograd.SingleTensorFunction<RopeFunction>
{
    public override string Name => nameof(RopeFunction);

    public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
    {
        var x = (Tensor)vars[0];
        var cos = (Tensor)vars[1];
        var sin = (Tensor)vars[2];
        var kernels = (FusedKernels)vars[3];
        ctx.save_for_backward([cos, sin]);
        ctx.save_data("kernels", kernels);
        return kernels.RopeForwardBf16(x, cos, sin);
    }

    public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor gradOutput)
    {
        using var scope = BackwardTensors.Scope(gradOutput); // see BackwardTensors: this may run on libtorch's device thread
        var saved = ctx.get_saved_variables();
        var kernels = (FusedKernels)ctx.get_data("kernels");
        var gradX = kernels.RopeBackwardBf16(gradOutput.contiguous(), saved[0], saved[1]);
        return [BackwardTensors.Return(gradX), null!, null!, null!];
    }
}

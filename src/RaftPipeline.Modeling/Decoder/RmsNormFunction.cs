using RaftPipeline.Modeling.Native;
using RaftPipeline.Modeling.Native.Cuda;
using TorchSharp;
using static TorchSharp.torch;

namespace RaftPipeline.Modeling.Decoder;

/// <summary>
/// RMSNorm with a frozen weight as one CUDA kernel each way (<see cref="FusedKernels.RmsNormForwardBf16"/>): the
/// unfused form is seven libtorch kernels forward (fp32 upcast, square, mean, add, rsqrt, multiply, downcast) with
/// their fp32 intermediates kept for backward. Saves only the input and the weight (backward recomputes 1/rms).
/// </summary>
sealed class RmsNormFunction : autograd.SingleTensorFunction<RmsNormFunction>
{
    public override string Name => nameof(RmsNormFunction);

    public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
    {
        var x = (Tensor)vars[0];
        var weight = (Tensor)vars[1];
        var eps = (double)vars[2];
        var kernels = (FusedKernels)vars[3];
        var y = kernels.RmsNormForwardBf16(x, weight, eps);
        ctx.save_for_backward([x, weight]);
        ctx.save_data("kernels", kernels);
        ctx.save_data("eps", eps);
        return y;
    }

    public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor gradOutput)
    {
        using var scope = BackwardTensors.Scope(gradOutput); // see BackwardTensors: this may run on libtorch's device thread
        var saved = ctx.get_saved_variables();
        var kernels = (FusedKernels)ctx.get_data("kernels");
        var gradX = kernels.RmsNormBackwardBf16(gradOutput.contiguous(), saved[0], saved[1], (double)ctx.get_data("eps"));
        return [BackwardTensors.Return(gradX), null!, null!, null!];
    }
}

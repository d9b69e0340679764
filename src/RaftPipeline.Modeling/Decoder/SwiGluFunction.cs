using RaftPipeline.Modeling.Native;
using RaftPipeline.Modeling.Native.Cuda;
using TorchSharp;
using static TorchSharp.torch;

namespace RaftPipeline.Modeling.Decoder;

/// <summary>
/// silu(gate) · up as one CUDA kernel each way (<see cref="FusedKernels.SwiGluForwardBf16"/>) instead of silu,
/// multiply and, in backward, three more passes over [tokens × intermediate]. Saves gate and up only. Takes either
/// (gate, up, kernels) or one fused gate|up projection output (gate_up, kernels), whose gradient then comes back
/// fused too (<see cref="FusedKernels.SwiGluForwardFusedBf16"/>).
/// </summary>
sealed class SwiGluFunction : autograd.SingleTensorFunction<SwiGluFunction>
{
    public override string Name => nameof(SwiGluFunction);

    public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
    {
        var kernels = (FusedKernels)vars[^1];
        ctx.save_data("kernels", kernels);
        if (vars.Length == 2)
        {
            var gateUp = (Tensor)vars[0];
            ctx.save_for_backward([gateUp]);
            return kernels.SwiGluForwardFusedBf16(gateUp);
        }
        var gate = (Tensor)vars[0];
        var up = (Tensor)vars[1];
        ctx.save_for_backward([gate, up]);
        return kernels.SwiGluForwardBf16(gate, up);
    }

    public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor gradOutput)
    {
        using var scope = BackwardTensors.Scope(gradOutput); // see BackwardTensors: this may run on libtorch's device thread
        var saved = ctx.get_saved_variables();
        var kernels = (FusedKernels)ctx.get_data("kernels");
        if (saved.Count == 1)
            return [BackwardTensors.Return(kernels.SwiGluBackwardFusedBf16(gradOutput.contiguous(), saved[0])), null!];
        var (gradGate, gradUp) = kernels.SwiGluBackwardBf16(gradOutput.contiguous(), saved[0], saved[1]);
        return [BackwardTensors.Return(gradGate), BackwardTensors.Return(gradUp), null!];
    }
}

using RaftPipeline.Modeling.Native.Cuda;
using TorchSharp;
using static TorchSharp.torch;

namespace RaftPipeline.Training.Optimizers;

/// <summary>
/// torch.nn.utils.clip_grad_norm_ (L2): total = ‖(‖g₁‖, ‖g₂‖, …)‖, every gradient scaled by
/// min(1, max_norm / (total + 1e-6)) (always multiplied, as torch does, even when the factor is 1).
/// Returns the PRE-clip total norm, which is what HF Trainer logs as <c>grad_norm</c>.
/// </summary>
public static class GradientClipping
{
    public static double ClipByGlobalNorm(IEnumerable<Tensor> parameters, double maxNorm)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var grads = parameters.Select(p => p.grad).Where(g => g is not null && !g.IsInvalid).Cast<Tensor>().ToList();
        if (grads.Count == 0) return 0.0;
        if (FusedKernels.ForFp32Tensors(grads, "clip_grad_norm") is { } kernels)
        {
            // Same formula in two launches instead of one norm and one multiply per tensor (Σ of squares over all
            // tensors equals the norm of the per-tensor norms, squared).
            var fusedTotal = kernels.SumOfSquaresFp32(grads).sqrt();
            if (maxNorm > 0) kernels.ScaleFp32(grads, (maxNorm / (fusedTotal + 1e-6)).clamp_max(1.0));
            return fusedTotal.to(ScalarType.Float64).item<double>();
        }
        var norms = grads.Select(g => linalg.vector_norm(g, 2)).ToArray();
        var total = linalg.vector_norm(stack(norms), 2);
        if (maxNorm > 0)
        {
            var coef = (maxNorm / (total + 1e-6)).clamp_max(1.0);
            foreach (var g in grads) g.mul_(coef.to(g.dtype));
        }
        return total.to(ScalarType.Float64).item<double>();
    }
}

using RaftPipeline.Modeling.Layers;
using RaftPipeline.Modeling.Native.Cuda;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RaftPipeline.Modeling.Decoder;

/// <summary>
/// RMSNorm as transformers computes it (Qwen3RMSNorm / LlamaRMSNorm): normalise in fp32, cast back to the
/// input dtype, then multiply by <c>weight</c> in the model dtype. The order of the cast matters in bf16.
/// </summary>
public sealed class RmsNorm : nn.Module<Tensor, Tensor>
{
    public Parameter weight;
    readonly double _eps;

    public RmsNorm(long size, double eps, ScalarType dtype, Device device) : base(nameof(RmsNorm))
    {
        weight = ParameterFactory.Empty([size], dtype, device);
        _eps = eps;
        RegisterComponents();
    }

    public double Eps => _eps;

    public override Tensor forward(Tensor x)
    {
        if (FusedKernelsFor(x) is { } kernels) return Fused(x, kernels);
        using var scope = torch.NewDisposeScope();
        var h = x.to(ScalarType.Float32);
        var variance = h.pow(2).mean([-1], keepdim: true);
        h = h * torch.rsqrt(variance + _eps);
        return (weight * h.to(x.dtype)).MoveToOuterDisposeScope();
    }

    /// <summary>The fused kernels when they apply: bf16 input and weight on a CUDA device, the weight frozen.</summary>
    FusedKernels? FusedKernelsFor(Tensor x) =>
        x.device_type == DeviceType.CUDA && x.dtype == ScalarType.BFloat16 && weight.dtype == ScalarType.BFloat16
        && !weight.requires_grad ? FusedKernels.For(x.device) : null;

    Tensor Fused(Tensor x, FusedKernels kernels)
    {
        var input = x.contiguous();
        if (is_grad_enabled() && input.requires_grad) return RmsNormFunction.apply(input, weight, _eps, kernels);
        return kernels.RmsNormForwardBf16(input, weight, _eps);
    }
}

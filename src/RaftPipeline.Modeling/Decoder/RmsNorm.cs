using RaftPipeline.Modeling.Layers;
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

    public override Tensor forward(Tensor x)
    {
        using var scope = torch.NewDisposeScope();
        var h = x.to(ScalarType.Float32);
        var variance = h.pow(2).mean([-1], keepdim: true);
        h = h * torch.rsqrt(variance + _eps);
        return (weight * h.to(x.dtype)).MoveToOuterDisposeScope();
    }
}

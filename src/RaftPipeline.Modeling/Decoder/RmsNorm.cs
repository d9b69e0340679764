using RaftPipeline.Modeling.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RaftPipeline.Modeling.Decoder;

/// <summary>
/// RMSNorm as transformers computes it (Qwen3RMSNorm / LlamaRMSNorm): normalise in fp32, cast back to the
/// input dtype, then multiply by <c>weight</c> in the model dtype. The order of the cast matters in bf16.
/// With <paramref name="weightOffset"/> 1 it is Gemma's form (Gemma2RMSNorm): the product with (1 + weight) is taken
/// in fp32 and only then cast back (the weight is stored as an offset from 1).
/// </summary>
public sealed class RmsNorm : nn.Module<Tensor, Tensor>
{
    public Parameter weight;
    readonly double _eps;
    readonly double _weightOffset;

    public RmsNorm(long size, double eps, ScalarType dtype, Device device, double weightOffset = 0) : base(nameof(RmsNorm))
    {
        weight = ParameterFactory.Empty([size], dtype, device);
        _eps = eps;
        _weightOffset = weightOffset;
        RegisterComponents();
    }

    public double Eps => _eps;

    /// <summary>0: y = weight · x̂ (Llama); 1: y = (1 + weight) · x̂ in fp32 (Gemma).</summary>
    public double WeightOffset => _weightOffset;

    public override Tensor forward(Tensor x)
    {
        if (FusedPaths.RmsNorm(x, weight, _eps, _weightOffset) is { } fused) return fused;
        using var scope = torch.NewDisposeScope();
        // The same ops as transformers, with no tensor created for a cast to the dtype a tensor already has, and the
        // eps and rsqrt applied in place on the fresh variance (same values; autograd keeps rsqrt's result for backward):
        // per decode step this module is the most frequent one (every block's norms, q/k norms included).
        var h = x.dtype == ScalarType.Float32 ? x : x.to(ScalarType.Float32);
        var variance = h.pow(2).mean([-1], keepdim: true);
        variance.add_(_eps).rsqrt_();
        h = h * variance;
        if (_weightOffset != 0)
            return (h * (weight.to(ScalarType.Float32) + _weightOffset)).to(x.dtype).MoveToOuterDisposeScope();
        return (weight * (x.dtype == ScalarType.Float32 ? h : h.to(x.dtype))).MoveToOuterDisposeScope();
    }
}

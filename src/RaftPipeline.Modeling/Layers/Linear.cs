using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RaftPipeline.Modeling.Layers;

/// <summary>The plain dense slot: y = x·Wᵀ + b, with <c>weight</c> [out, in] and optional <c>bias</c> [out], as nn.Linear.</summary>
public sealed class Linear : LinearSlot
{
    public Parameter weight;
    public Parameter? bias;

    public Linear(long inFeatures, long outFeatures, bool hasBias, ScalarType dtype, Device device) : base(nameof(Linear))
    {
        weight = ParameterFactory.Empty([outFeatures, inFeatures], dtype, device);
        bias = hasBias ? ParameterFactory.Empty([outFeatures], dtype, device) : null;
        RegisterComponents();
    }

    public override long InFeatures => weight.shape[1];
    public override long OutFeatures => weight.shape[0];

    public override Tensor forward(Tensor input) => nn.functional.linear(input, weight, bias);

    public override Tensor DenseWeight(ScalarType dtype)
    {
        using var noGrad = torch.no_grad();
        return weight.detach().to(dtype, copy: true);
    }
}

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

    /// <summary>
    /// Makes <c>weight</c> a view of <paramref name="storage"/> (same shape and values): a LoRA group keeps the weights of
    /// the projections that share an input side by side so that one GEMM computes them all. Frozen weights only.
    /// </summary>
    public void ShareWeightStorage(Tensor storage)
    {
        if (weight.requires_grad) throw new InvalidOperationException("only a frozen weight can move into shared storage");
        var old = weight;
        weight = new Parameter(storage, requires_grad: false);
        ConditionallyRegisterParameter(nameof(weight), weight);
        old.Dispose();
    }

    public override Tensor DenseWeight(ScalarType dtype)
    {
        using var noGrad = torch.no_grad();
        return weight.detach().to(dtype, copy: true);
    }
}

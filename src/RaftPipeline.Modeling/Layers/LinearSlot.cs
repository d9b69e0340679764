using TorchSharp;
using static TorchSharp.torch;

namespace RaftPipeline.Modeling.Layers;

/// <summary>
/// The one small interface every projection of the decoder sits behind (q/k/v/o, gate/up/down):
/// y = x·Wᵀ (+ b). Implementations: a plain dense linear, an NF4-quantized linear that dequantizes on the
/// fly, and a LoRA wrapper around either. Attention and MLP code only ever see a <see cref="LinearSlot"/>,
/// so they never branch on "is quantized" or "has an adapter" (composition over flags, as torchtune does).
/// </summary>
public abstract class LinearSlot : nn.Module<Tensor, Tensor>
{
    protected LinearSlot(string name) : base(name) { }

    public abstract long InFeatures { get; }
    public abstract long OutFeatures { get; }

    /// <summary>
    /// The effective dense weight [out, in] in <paramref name="dtype"/> (dequantized for NF4, with any adapter
    /// merged in for LoRA). A new tensor the caller owns; used by merge and export, not by forward.
    /// </summary>
    public abstract Tensor DenseWeight(ScalarType dtype);
}

using TorchSharp;
using static TorchSharp.torch;

namespace RaftPipeline.Modeling.Decoder;

/// <summary>
/// The vocabulary projection and the logit transform that follows it (Gemma 2's final soft-cap,
/// <c>logits = cap · tanh(logits / cap)</c>), used by both the forward pass (<see cref="CausalLM.Forward"/>) and the
/// chunked training loss, so a transform is written once, with its derivative beside it.
/// </summary>
public sealed class OutputHead
{
    readonly Func<Tensor> _weight;

    /// <param name="weight">the [vocab, hidden] projection (lm_head's, or the tied embedding), read at each use</param>
    /// <param name="finalLogitSoftcap">config.json's final_logit_softcapping, or null for none</param>
    public OutputHead(Func<Tensor> weight, double? finalLogitSoftcap = null)
    {
        _weight = weight;
        FinalLogitSoftcap = finalLogitSoftcap;
    }

    /// <summary>A head with no transform over a fixed weight.</summary>
    public static OutputHead Plain(Tensor weight) => new(() => weight);

    public Tensor Weight => _weight();

    public double? FinalLogitSoftcap { get; }

    /// <summary>Logits [.., vocab] for hidden states [.., hidden]: the projection, then <see cref="Transform"/>.</summary>
    public Tensor Logits(Tensor hidden)
    {
        using var scope = torch.NewDisposeScope();
        return Transform(nn.functional.linear(hidden, Weight)).MoveToOuterDisposeScope();
    }

    /// <summary>The transform of raw logits, in their dtype (as transformers applies it before the loss's upcast).</summary>
    public Tensor Transform(Tensor raw) => FinalLogitSoftcap is double cap ? (raw / cap).tanh() * cap : raw;

    /// <summary>
    /// The gradient with respect to the raw logits from the gradient with respect to the transformed ones, given the
    /// transformed logits: d(cap·tanh(z/cap))/dz = 1 − tanh² = 1 − (logits/cap)².
    /// </summary>
    public Tensor TransformBackward(Tensor gradLogits, Tensor logits)
    {
        if (FinalLogitSoftcap is not double cap) return gradLogits;
        using var scope = torch.NewDisposeScope();
        var t = logits / cap;
        return (gradLogits * (1 - t * t)).MoveToOuterDisposeScope();
    }
}

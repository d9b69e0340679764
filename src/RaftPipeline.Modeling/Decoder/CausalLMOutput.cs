using static TorchSharp.torch;

namespace RaftPipeline.Modeling.Decoder;

/// <summary>
/// What a forward pass returns: logits [B, T', vocab] in the model dtype (T' = T, or the last k positions when
/// asked), and the mean shifted cross-entropy over labels ≠ −100 (fp32) when labels were given. The caller owns
/// both (dispose them, or let a dispose scope do it).
/// </summary>
public sealed record CausalLMOutput(Tensor Logits, Tensor? Loss);

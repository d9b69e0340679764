using static TorchSharp.torch;

namespace RaftPipeline.Training.Data;

/// <summary>
/// A right-padded batch: <see cref="InputIds"/>, <see cref="AttentionMask"/> (1 real, 0 padding) and
/// <see cref="Labels"/>, all int64 [batch, seq]. The tensors belong to the current dispose scope.
/// <see cref="SegmentIds"/> is set when the batch holds packed rows: int64 [batch, seq], the packed row each token
/// belongs to (1, 2, …; 0 = padding), which the model turns into a block-diagonal causal mask and per-row positions.
/// </summary>
public sealed record TrainingBatch(Tensor InputIds, Tensor AttentionMask, Tensor Labels, int RealTokens, int SupervisedTokens,
    Tensor? SegmentIds = null)
{
    /// <summary>
    /// The supervised positions after the shift, int64 [n]: indices into the [batch·(seq−1)] flattened positions
    /// whose next token carries a label. Built from the host's labels, so the loss selects its rows without asking
    /// the device (a <c>nonzero</c> on device labels would stall the host until the whole forward pass had run).
    /// </summary>
    public required Tensor LossRows { get; init; }

    /// <summary>The label of each of <see cref="LossRows"/>, int64 [n].</summary>
    public required Tensor LossTargets { get; init; }

    /// <summary>Whether any position is padding (the attention mask then matters).</summary>
    public required bool HasPadding { get; init; }

    /// <summary>The attention mask when the batch has padding, else null (the model then needs no look at the mask).</summary>
    public Tensor? MaskIfPadded => HasPadding ? AttentionMask : null;
}

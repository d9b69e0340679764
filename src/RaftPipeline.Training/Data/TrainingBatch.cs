using static TorchSharp.torch;

namespace RaftPipeline.Training.Data;

/// <summary>
/// A right-padded batch: <see cref="InputIds"/>, <see cref="AttentionMask"/> (1 real, 0 padding) and
/// <see cref="Labels"/>, all int64 [batch, seq]. The tensors belong to the current dispose scope.
/// <see cref="SegmentIds"/> is set when the batch holds packed rows: int64 [batch, seq], the packed row each token
/// belongs to (1, 2, …; 0 = padding), which the model turns into a block-diagonal causal mask and per-row positions.
/// </summary>
public sealed record TrainingBatch(Tensor InputIds, Tensor AttentionMask, Tensor Labels, int RealTokens, int SupervisedTokens,
    Tensor? SegmentIds = null);

using static TorchSharp.torch;

namespace RaftPipeline.Training.Data;

/// <summary>
/// A right-padded batch: <see cref="InputIds"/>, <see cref="AttentionMask"/> (1 real, 0 padding) and
/// <see cref="Labels"/>, all int64 [batch, seq]. The tensors belong to the current dispose scope.
/// </summary>
public sealed record TrainingBatch(Tensor InputIds, Tensor AttentionMask, Tensor Labels, int RealTokens, int SupervisedTokens);

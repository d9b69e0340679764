using RaftPipeline.Modeling.Decoder;
using RaftPipeline.Training.Data;
using static TorchSharp.torch;

namespace RaftPipeline.Training.Loss;

/// <summary>
/// The shifted causal-LM loss with HF's reduction: position t predicts label t+1, labels equal to -100 are
/// ignored, and the loss is the SUM over supervised tokens divided by the number of supervised tokens in the whole
/// optimizer step (transformers' <c>num_items_in_batch</c>: with gradient accumulation each micro-batch divides its
/// sum by the token count of all micro-batches of the step, so the step's gradient is the token mean over the
/// accumulated batch, not a mean of per-micro-batch means).
/// Only supervised positions reach the vocabulary projection: the context rows of a completion-only batch never
/// produce logits at all.
/// </summary>
public static class CausalLmLoss
{
    public const int DefaultChunkRows = 1024;

    /// <summary>Σ over supervised shifted positions of −log p(label). A scalar fp32 tensor with a grad_fn.</summary>
    /// <param name="hidden">Final (normed) hidden states [batch, seq, hidden].</param>
    /// <param name="lmHeadWeight">The vocabulary projection [vocab, hidden] (the tied embedding for Qwen3 small models).</param>
    /// <param name="labels">int64 [batch, seq], -100 where no loss.</param>
    /// <remarks>Finding the supervised rows of device labels reads them back (a host-device sync); in a training
    /// step use the <see cref="TrainingBatch"/> overload, whose rows were found on the host.</remarks>
    public static Tensor SupervisedSum(Tensor hidden, Tensor lmHeadWeight, Tensor labels, int chunkRows = DefaultChunkRows) =>
        SupervisedSum(hidden, OutputHead.Plain(lmHeadWeight), labels, chunkRows);

    /// <summary>The same sum through the model's output head (its logit transform, e.g. Gemma 2's soft-cap, included).</summary>
    public static Tensor SupervisedSum(Tensor hidden, OutputHead head, Tensor labels, int chunkRows = DefaultChunkRows)
    {
        var shiftedLabels = labels[.., 1..].reshape(-1);            // [B·(T−1)]
        var rows = shiftedLabels.ne(Data.CollatorOptions.IgnoreIndex).nonzero().squeeze(1);
        return SelectedSum(hidden, head, rows, shiftedLabels.index_select(0, rows), chunkRows);
    }

    /// <summary>The same sum over the batch's supervised positions (<see cref="TrainingBatch.LossRows"/>), with no sync.</summary>
    public static Tensor SupervisedSum(Tensor hidden, Tensor lmHeadWeight, TrainingBatch batch, int chunkRows = DefaultChunkRows) =>
        SupervisedSum(hidden, OutputHead.Plain(lmHeadWeight), batch, chunkRows);

    /// <summary>The batch's sum through the model's output head (its logit transform included), with no sync.</summary>
    public static Tensor SupervisedSum(Tensor hidden, OutputHead head, TrainingBatch batch, int chunkRows = DefaultChunkRows) =>
        SelectedSum(hidden, head, batch.LossRows, batch.LossTargets, chunkRows);

    static Tensor SelectedSum(Tensor hidden, OutputHead head, Tensor rows, Tensor targets, int chunkRows)
    {
        long h = hidden.shape[^1];
        var shiftedHidden = hidden[.., ..^1, ..].reshape(-1, h);   // [B·(T−1), H]
        var selectedHidden = shiftedHidden.index_select(0, rows);
        return ChunkedCrossEntropyFunction.apply(selectedHidden, head.Weight, targets, chunkRows, head);
    }

    /// <summary>Supervised tokens of a label batch after the shift (HF's num_items_in_batch contribution).</summary>
    public static long SupervisedCount(Tensor labels) =>
        labels[.., 1..].ne(Data.CollatorOptions.IgnoreIndex).sum().item<long>();
}

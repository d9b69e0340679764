using RaftPipeline.Training.Data;
using RaftPipeline.Training.Loss;
using RaftPipeline.Training.Model;
using static TorchSharp.torch;

namespace RaftPipeline.Stages.Train;

/// <summary>
/// The held-out loss as HF's evaluation loop would give it with the same collator: the mean −log p over every
/// supervised (answer) token of the eval rows, dropout off, no gradients. Token-weighted over the whole set, so
/// batching does not change it beyond float rounding.
/// </summary>
public static class EvalLoss
{
    public sealed record Result(double Loss, long SupervisedTokens);

    public static Result Compute(ITrainableCausalLm model, CompletionOnlyCollator collator, IReadOnlyList<LabeledRow> rows,
        int batchSize, Device device)
    {
        var supervised = rows.Where(r => r.SupervisedTokens > 0).ToList();
        if (supervised.Count == 0) return new Result(double.NaN, 0);
        using var noGrad = no_grad();
        double sum = 0;
        long count = 0;
        foreach (var batchRows in supervised.Chunk(batchSize))
        {
            using var scope = NewDisposeScope();
            var batch = collator.Collate(batchRows, device);
            var hidden = model.HiddenStates(batch.InputIds, batch.MaskIfPadded, batch.SegmentIds);
            var s = CausalLmLoss.SupervisedSum(hidden, model.Head, batch);
            sum += s.to(ScalarType.Float64).item<double>();
            count += batch.SupervisedTokens;
        }
        return new Result(sum / count, count);
    }
}

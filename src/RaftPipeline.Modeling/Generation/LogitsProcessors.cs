using TorchSharp;
using static TorchSharp.torch;

namespace RaftPipeline.Modeling.Generation;

/// <summary>
/// The logits processors of transformers (generation/logits_process.py), same arithmetic, applied in the order
/// its generate() builds them: repetition penalty, then (sampling only) temperature, top-k, top-p.
/// Scores are fp32 [B, vocab]; each returns a new tensor.
/// </summary>
public static class LogitsProcessors
{
    /// <summary>RepetitionPenaltyLogitsProcessor: for every id in <paramref name="inputIds"/> [B, L], a negative
    /// score is multiplied by the penalty and a positive one divided by it.</summary>
    public static Tensor RepetitionPenalty(Tensor scores, Tensor inputIds, double penalty)
    {
        using var scope = torch.NewDisposeScope();
        var picked = scores.gather(1, inputIds);
        picked = torch.where(picked.lt(0), picked * penalty, picked / penalty);
        return scores.scatter(1, inputIds, picked).MoveToOuterDisposeScope();
    }

    /// <summary>TemperatureLogitsWarper: scores / temperature.</summary>
    public static Tensor Temperature(Tensor scores, double temperature) => scores / temperature;

    /// <summary>TopKLogitsWarper: scores below the k-th largest become −∞.</summary>
    public static Tensor TopK(Tensor scores, int k)
    {
        using var scope = torch.NewDisposeScope();
        k = (int)Math.Min(Math.Max(k, 1), scores.shape[^1]);
        var kth = scores.topk(k).values.narrow(-1, k - 1, 1);
        return scores.masked_fill(scores.lt(kth), float.NegativeInfinity).MoveToOuterDisposeScope();
    }

    /// <summary>TopPLogitsWarper: sort ascending, drop the tokens whose cumulative probability is ≤ 1 − p,
    /// always keeping the most likely one.</summary>
    public static Tensor TopP(Tensor scores, double p)
    {
        using var scope = torch.NewDisposeScope();
        var (sorted, indices) = scores.sort(-1, descending: false);
        var cumulative = sorted.softmax(-1).cumsum(-1);
        var removeSorted = cumulative.le(1 - p);
        long v = scores.shape[^1];
        removeSorted.narrow(-1, v - 1, 1).fill_(false);
        var remove = removeSorted.scatter(1, indices, removeSorted);
        return scores.masked_fill(remove, float.NegativeInfinity).MoveToOuterDisposeScope();
    }

    /// <summary>All processors <paramref name="options"/> enables, in transformers' order.</summary>
    public static Tensor Apply(Tensor scores, Tensor inputIds, GenerationOptions options)
    {
        using var scope = torch.NewDisposeScope();
        var s = scores;
        if (options.RepetitionPenalty != 1.0) s = RepetitionPenalty(s, inputIds, options.RepetitionPenalty);
        if (options.DoSample)
        {
            if (options.Temperature != 1.0) s = Temperature(s, options.Temperature);
            if (options.TopK > 0) s = TopK(s, options.TopK);
            if (options.TopP < 1.0) s = TopP(s, options.TopP);
        }
        return (ReferenceEquals(s, scores) ? s.clone() : s).MoveToOuterDisposeScope();
    }
}

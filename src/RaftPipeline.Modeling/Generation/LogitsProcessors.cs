using TorchSharp;
using static TorchSharp.torch;

namespace RaftPipeline.Modeling.Generation;

/// <summary>
/// The logits processors of transformers (generation/logits_process.py), same arithmetic, applied in the order
/// its generate() builds them: repetition penalty, then (sampling only) temperature, top-k, top-p.
/// Scores are fp32 [B, vocab]. Each processor is written once, in place (a decode step processes its own scores, so
/// no [B, vocab] copy per processor); the public single processors and <see cref="Apply"/> work on a copy.
/// </summary>
public static class LogitsProcessors
{
    /// <summary>RepetitionPenaltyLogitsProcessor: for every id in <paramref name="inputIds"/> [B, L], a negative
    /// score is multiplied by the penalty and a positive one divided by it.</summary>
    public static Tensor RepetitionPenalty(Tensor scores, Tensor inputIds, double penalty) =>
        OnCopy(scores, s => PenalizeInPlace(s, inputIds, penalty));

    /// <summary>TemperatureLogitsWarper: scores / temperature.</summary>
    public static Tensor Temperature(Tensor scores, double temperature) => scores / temperature;

    /// <summary>TopKLogitsWarper: scores below the k-th largest become −∞.</summary>
    public static Tensor TopK(Tensor scores, int k) => OnCopy(scores, s => TopKInPlace(s, k));

    /// <summary>TopPLogitsWarper: sort ascending, drop the tokens whose cumulative probability is ≤ 1 − p,
    /// always keeping the most likely one.</summary>
    public static Tensor TopP(Tensor scores, double p) => OnCopy(scores, s => TopPInPlace(s, p));

    /// <summary>All processors <paramref name="options"/> enables, in transformers' order, on a copy of the scores.</summary>
    public static Tensor Apply(Tensor scores, Tensor inputIds, GenerationOptions options) =>
        OnCopy(scores, s => ApplyInPlace(s, inputIds, options));

    /// <summary>True when <paramref name="options"/> enables any processor (else the scores are used as they are).</summary>
    public static bool AnyEnabled(GenerationOptions options) =>
        options.RepetitionPenalty != 1.0 || (options.DoSample && (options.Temperature != 1.0 || options.TopK > 0 || options.TopP < 1.0));

    /// <summary><see cref="Apply"/> writing into <paramref name="scores"/> itself; returns it.</summary>
    public static Tensor ApplyInPlace(Tensor scores, Tensor inputIds, GenerationOptions options)
    {
        if (options.RepetitionPenalty != 1.0) PenalizeInPlace(scores, inputIds, options.RepetitionPenalty);
        if (options.DoSample)
        {
            if (options.Temperature != 1.0) scores.div_(options.Temperature);
            if (options.TopK > 0) TopKInPlace(scores, options.TopK);
            if (options.TopP < 1.0) TopPInPlace(scores, options.TopP);
        }
        return scores;
    }

    static void PenalizeInPlace(Tensor scores, Tensor inputIds, double penalty)
    {
        using var scope = torch.NewDisposeScope();
        var picked = scores.gather(1, inputIds);
        picked = torch.where(picked.lt(0), picked * penalty, picked / penalty);
        scores.scatter_(1, inputIds, picked);
    }

    static void TopKInPlace(Tensor scores, int k)
    {
        using var scope = torch.NewDisposeScope();
        k = (int)Math.Min(Math.Max(k, 1), scores.shape[^1]);
        var kth = scores.topk(k).values.narrow(-1, k - 1, 1);
        scores.masked_fill_(scores.lt(kth), float.NegativeInfinity);
    }

    static void TopPInPlace(Tensor scores, double p)
    {
        using var scope = torch.NewDisposeScope();
        var (sorted, indices) = scores.sort(-1, descending: false);
        var cumulative = sorted.softmax(-1).cumsum(-1);
        var removeSorted = cumulative.le(1 - p);
        long v = scores.shape[^1];
        removeSorted.narrow(-1, v - 1, 1).fill_(false);
        scores.masked_fill_(removeSorted.scatter(1, indices, removeSorted), float.NegativeInfinity);
    }

    static Tensor OnCopy(Tensor scores, Action<Tensor> inPlace)
    {
        using var scope = torch.NewDisposeScope();
        var copy = scores.clone();
        inPlace(copy);
        return copy.MoveToOuterDisposeScope();
    }
}

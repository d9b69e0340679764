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
            if (options.TopK > 0 && options.TopP < 1.0) TopKThenTopPInPlace(scores, options.TopK, options.TopP);
            else if (options.TopK > 0) TopKInPlace(scores, options.TopK);
            else if (options.TopP < 1.0) TopPInPlace(scores, options.TopP);
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

    /// <summary>
    /// Top-k, then top-p, without top-p's sort of the whole vocabulary (most of a sampling step's time: 151,936 scores a
    /// row). After top-k every score but the k survivors is −∞, so the ascending sort top-p takes is the −∞s followed by
    /// the survivors ascending, which top-k has already found: that row is built as such, and the softmax and cumulative
    /// sum run over exactly the values the full sort would give, so the same tokens are removed. Where ties at the k-th
    /// score keep more than k tokens (top-k keeps every tie), the two processors run as written.
    /// </summary>
    static void TopKThenTopPInPlace(Tensor scores, int k, double p)
    {
        using var scope = torch.NewDisposeScope();
        long v = scores.shape[^1];
        k = (int)Math.Min(Math.Max(k, 1), v);
        var (values, indices) = scores.topk(k); // descending
        var below = scores.lt(values.narrow(-1, k - 1, 1));
        scores.masked_fill_(below, float.NegativeInfinity);
        if (!below.logical_not().sum(-1).eq(k).all().item<bool>())
        {
            TopPInPlace(scores, p);
            return;
        }
        var ascending = values.flip(-1);
        var sorted = torch.full(scores.shape, float.NegativeInfinity, scores.dtype, scores.device);
        sorted.narrow(-1, v - k, k).copy_(ascending);
        var removeSorted = sorted.softmax(-1).cumsum(-1).narrow(-1, v - k, k).le(1 - p);
        removeSorted.narrow(-1, k - 1, 1).fill_(false); // the most likely token always stays
        scores.scatter_(1, indices.flip(-1), ascending.masked_fill(removeSorted, float.NegativeInfinity));
    }

    static Tensor OnCopy(Tensor scores, Action<Tensor> inPlace)
    {
        using var scope = torch.NewDisposeScope();
        var copy = scores.clone();
        inPlace(copy);
        return copy.MoveToOuterDisposeScope();
    }
}

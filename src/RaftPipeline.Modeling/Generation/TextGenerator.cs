using RaftPipeline.Modeling.Decoder;

namespace RaftPipeline.Modeling.Generation;

/// <summary>
/// Autoregressive generation over a <see cref="CausalLM"/> as transformers' generate() does it: prompts
/// left-padded into one batch with an attention mask (positions from the mask), a static KV cache, the logits
/// processors in order, argmax or a seeded multinomial draw (the loop: <see cref="BatchDecode"/>). One dispose
/// scope per generated token, so native memory stays flat however long it runs.
/// <para>
/// Three entry points share the loop: one set of options for the whole batch (generate(): one sampling generator for
/// the batch, as transformers draws), <see cref="GenerationRow"/>s that each bring their own options, seed and
/// cancellation (the server's concurrent requests stepped together), and <see cref="GenerateInBatches"/> (the stages:
/// any number of rows, length-sorted into batches of a given size).
/// </para>
/// <para>
/// One deliberate difference from transformers: a left-padded row's repetition penalty covers its own ids only
/// (transformers' also hits the pad id in the padding), so a row gives the same tokens in a batch as alone.
/// </para>
/// </summary>
public static class TextGenerator
{
    /// <summary>Rows decoded together by the stages unless their spec says otherwise.</summary>
    public const int DefaultBatchSize = 8;

    /// <param name="decode">Turns a sequence's new ids into text; needed only for stop strings.</param>
    /// <param name="onToken">Called for every new token of every unfinished sequence, as soon as it exists.</param>
    public static IReadOnlyList<GeneratedSequence> Generate(CausalLM model, IReadOnlyList<IReadOnlyList<int>> prompts,
        GenerationOptions options, Action<GeneratedToken>? onToken = null, Func<IReadOnlyList<int>, string>? decode = null,
        CancellationToken cancellation = default)
    {
        options.Validate();
        if (prompts.Count == 0) return [];
        return Run(model, prompts.Select(p => new GenerationRow(p, options)).ToList(), options, onToken, decode, cancellation);
    }

    /// <summary>
    /// Continues rows with their own options in one batch: each row stops at its own max_new_tokens, eos ids and stop
    /// strings, samples from its own seeded generator, and ends as <see cref="FinishReason.Cancelled"/> at the next
    /// step once its token is cancelled (the other rows go on). Rows must share the pad id (one model's).
    /// </summary>
    public static IReadOnlyList<GeneratedSequence> Generate(CausalLM model, IReadOnlyList<GenerationRow> rows,
        Action<GeneratedToken>? onToken = null, Func<IReadOnlyList<int>, string>? decode = null, CancellationToken cancellation = default)
    {
        if (rows.Count == 0) return [];
        ValidateRows(rows);
        return Run(model, rows, shared: null, onToken, decode, cancellation);
    }

    /// <summary>
    /// Continues many rows the way the eval and generate stages do: sorted by prompt length (longest first; equal lengths
    /// keep their order) and decoded <paramref name="batchSize"/> at a time, so rows of similar length share a batch and
    /// little is spent on padding; finished rows leave their batch as they finish. Each row samples from its own seeded
    /// generator, so on the CPU in fp32 a row's tokens do not depend on its batch (except under dynamic NTK RoPE, whose θ
    /// grows with the longest position of the whole batch, as transformers computes it). Results (and
    /// <see cref="GeneratedToken.Sequence"/>) are in the order of <paramref name="rows"/>.
    /// </summary>
    /// <param name="onBatchDone">Called after each batch with the number of rows finished so far.</param>
    public static IReadOnlyList<GeneratedSequence> GenerateInBatches(CausalLM model, IReadOnlyList<GenerationRow> rows, int batchSize,
        Action<GeneratedToken>? onToken = null, Func<IReadOnlyList<int>, string>? decode = null, Action<int>? onBatchDone = null,
        CancellationToken cancellation = default)
    {
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "must be ≥ 1");
        if (rows.Count == 0) return [];
        ValidateRows(rows);
        var order = Enumerable.Range(0, rows.Count).OrderByDescending(i => rows[i].PromptIds.Count).ToArray();
        var results = new GeneratedSequence[rows.Count];
        for (int start = 0; start < order.Length; start += batchSize)
        {
            cancellation.ThrowIfCancellationRequested();
            var members = order.AsSpan(start, Math.Min(batchSize, order.Length - start)).ToArray();
            var generated = Run(model, members.Select(i => rows[i]).ToList(), shared: null, onToken, decode, cancellation, members);
            for (int k = 0; k < members.Length; k++) results[members[k]] = generated[k];
            onBatchDone?.Invoke(start + members.Length);
        }
        return results;
    }

    static void ValidateRows(IReadOnlyList<GenerationRow> rows)
    {
        foreach (var row in rows) row.Options.Validate();
        if (rows.Select(r => r.Options.PadTokenId).Distinct().Count() > 1) throw new ArgumentException("the rows of one batch must share the pad id");
    }

    static IReadOnlyList<GeneratedSequence> Run(CausalLM model, IReadOnlyList<GenerationRow> rows, GenerationOptions? shared,
        Action<GeneratedToken>? onToken, Func<IReadOnlyList<int>, string>? decode, CancellationToken cancellation,
        IReadOnlyList<int>? sequenceIds = null)
    {
        if (rows.Any(r => r.PromptIds.Count == 0)) throw new ArgumentException("every prompt needs at least one token");
        if (rows.Any(r => r.Options.StopStrings.Count > 0) && decode is null)
            throw new ArgumentException("stop strings need a decode callback to turn ids into text");
        using var batch = new BatchDecode(model, rows, shared, onToken, decode, sequenceIds);
        return batch.Run(cancellation);
    }
}

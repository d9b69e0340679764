using RaftPipeline.Modeling.Decoder;
using TorchSharp;
using static TorchSharp.torch;

namespace RaftPipeline.Modeling.Generation;

/// <summary>
/// Autoregressive generation over a <see cref="CausalLM"/> as transformers' generate() does it: prompts
/// left-padded into one batch with an attention mask (positions from the mask), a KV cache, the logits
/// processors in order, argmax or a seeded multinomial draw, finished rows filled with the pad id. One dispose
/// scope per generated token, so native memory stays flat however long it runs.
/// <para>
/// Two entry points share the loop: one set of options for the whole batch (generate(), the stages: one sampling
/// generator for the batch, as transformers draws), or <see cref="GenerationRow"/>s that each bring their own
/// options, seed and cancellation (the server's concurrent requests stepped together).
/// </para>
/// </summary>
public static class TextGenerator
{
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
        foreach (var row in rows) row.Options.Validate();
        if (rows.Select(r => r.Options.PadTokenId).Distinct().Count() > 1) throw new ArgumentException("the rows of one batch must share the pad id");
        return Run(model, rows, shared: null, onToken, decode, cancellation);
    }

    static IReadOnlyList<GeneratedSequence> Run(CausalLM model, IReadOnlyList<GenerationRow> rows, GenerationOptions? shared,
        Action<GeneratedToken>? onToken, Func<IReadOnlyList<int>, string>? decode, CancellationToken cancellation)
    {
        if (rows.Any(r => r.PromptIds.Count == 0)) throw new ArgumentException("every prompt needs at least one token");
        if (rows.Any(r => r.Options.StopStrings.Count > 0) && decode is null)
            throw new ArgumentException("stop strings need a decode callback to turn ids into text");

        int batch = rows.Count;
        int width = rows.Max(r => r.PromptIds.Count);
        int maxNew = rows.Max(r => r.Options.MaxNewTokens);
        int capacity = width + maxNew;
        int padId = rows[0].Options.PadTokenId;
        var device = model.Device;
        // The running sequences (prompt with left padding, then new tokens) and their 0/1 mask live in fixed
        // buffers of the final width; each step writes one column and works on views, so no step allocates
        // anything that outlives it, and step sizes do not creep up and fragment the native heap.
        var idsHost = new long[batch * capacity];
        var maskHost = new long[batch * capacity];
        Array.Fill(idsHost, padId);
        for (int i = 0; i < batch; i++)
        {
            var prompt = rows[i].PromptIds;
            int pad = width - prompt.Count;
            for (int j = 0; j < prompt.Count; j++)
            {
                idsHost[i * capacity + pad + j] = prompt[j];
                maskHost[i * capacity + pad + j] = 1;
            }
        }
        using var idsBuffer = torch.tensor(idsHost, [batch, capacity], device: device).DetachFromDisposeScope();
        using var maskBuffer = torch.tensor(maskHost, [batch, capacity], device: device).DetachFromDisposeScope();
        var newIds = Enumerable.Range(0, batch).Select(_ => new List<int>()).ToArray();
        var finish = Enumerable.Repeat(FinishReason.Length, batch).ToArray();
        var done = rows.Select(r => r.Options.MaxNewTokens == 0).ToArray();
        var eos = rows.Select(r => r.Options.EosTokenIds.ToHashSet()).ToArray();

        // The draw happens on the CPU whatever the model's device: TorchSharp 0.107's Generator(seed, cuda) still makes
        // a CPU generator, which CUDA's multinomial refuses (measured on the H100), and one CPU stream makes a seed
        // mean the same draws on every device. The probabilities are one vocabulary-sized row per sequence.
        // Shared options: one generator for the batch (as transformers); rows: one per sampling row.
        var generators = shared is not null
            ? [shared.DoSample ? NewGenerator(shared.Seed) : null]
            : rows.Select(r => r.Options.DoSample ? NewGenerator(r.Options.Seed) : null).ToArray();
        try
        {
            using var cache = new KvCache(model.Config.NumHiddenLayers, capacity);
            var rotary = model.model.Rotary;
            using var noGrad = torch.no_grad();

            int length = width;
            for (int step = 0; step < maxNew; step++)
            {
                cancellation.ThrowIfCancellationRequested();
                for (int i = 0; i < batch; i++)
                {
                    if (!done[i] && rows[i].Cancellation.IsCancellationRequested)
                    {
                        done[i] = true;
                        finish[i] = FinishReason.Cancelled;
                    }
                }
                if (!done.Contains(false)) break;

                using var scope = torch.NewDisposeScope();
                var allIds = idsBuffer.narrow(1, 0, length);
                var mask = maskBuffer.narrow(1, 0, length);
                // longrope turns every position with the long factors once the sequence passes the original context:
                // the keys cached with the short ones are stale, so the sequence is encoded again from the start, as
                // transformers' Phi3ForCausalLM.prepare_inputs_for_generation drops its cache at that step.
                bool reencode = step > 0 && rotary.UsesLongFactors(length) && !rotary.UsesLongFactors(length - 1);
                if (reencode) cache.Rewind();
                var input = step == 0 || reencode ? allIds : allIds.narrow(1, length - 1, 1);

                var logits = model.Forward(input, mask, cache: cache, logitsToKeep: 1).Logits;
                // transformers processes the last position's logits in fp32.
                var scores = logits.select(1, 0).to(ScalarType.Float32);
                var picked = shared is not null
                    ? PickShared(scores, allIds, shared, generators[0])
                    : PickPerRow(scores, allIds, rows, done, generators, padId);

                for (int i = 0; i < batch; i++)
                {
                    if (done[i]) picked[i] = padId; // finished rows are filled with pad, as transformers does
                }
                idsBuffer.narrow(1, length, 1).copy_(torch.tensor(picked, [batch, 1], device: device));
                maskBuffer.narrow(1, length, 1).fill_(1); // transformers extends the mask with 1 for every row
                length++;

                for (int i = 0; i < batch; i++)
                {
                    if (done[i]) continue;
                    int token = (int)picked[i];
                    newIds[i].Add(token);
                    onToken?.Invoke(new GeneratedToken(i, step, token));
                    var options = rows[i].Options;
                    if (eos[i].Contains(token))
                    {
                        done[i] = true;
                        finish[i] = FinishReason.EndOfSequence;
                    }
                    else if (options.StopStrings.Count > 0 && options.StopStrings.Any(decode!(newIds[i]).Contains))
                    {
                        done[i] = true;
                        finish[i] = FinishReason.StopString;
                    }
                    else if (newIds[i].Count >= options.MaxNewTokens)
                    {
                        done[i] = true; // finish stays Length
                    }
                }
            }
        }
        finally
        {
            foreach (var g in generators) g?.Dispose();
        }
        return Enumerable.Range(0, batch).Select(i => new GeneratedSequence(rows[i].PromptIds, newIds[i], finish[i])).ToList();
    }

    static torch.Generator NewGenerator(long? seed) => new((ulong)(seed ?? DateTime.UtcNow.Ticks), torch.CPU);

    /// <summary>One set of processors for the whole batch and one draw over all rows.</summary>
    static long[] PickShared(Tensor scores, Tensor allIds, GenerationOptions options, torch.Generator? generator)
    {
        scores = LogitsProcessors.Apply(scores, allIds, options);
        var next = options.DoSample
            ? scores.softmax(-1).cpu().multinomial(1, generator: generator).squeeze(-1)
            : scores.argmax(-1);
        return next.cpu().data<long>().ToArray();
    }

    /// <summary>
    /// Rows with their own settings. Greedy rows that share the repetition penalty (the usual server case) still take
    /// one batched argmax; otherwise each unfinished row is processed and drawn on its own slice.
    /// </summary>
    static long[] PickPerRow(Tensor scores, Tensor allIds, IReadOnlyList<GenerationRow> rows, bool[] done, torch.Generator?[] generators, int padId)
    {
        var first = rows[0].Options;
        if (rows.All(r => !r.Options.DoSample && r.Options.RepetitionPenalty == first.RepetitionPenalty))
            return PickShared(scores, allIds, first, null);
        var picked = new long[rows.Count];
        for (int i = 0; i < rows.Count; i++)
        {
            if (done[i])
            {
                picked[i] = padId;
                continue;
            }
            picked[i] = PickShared(scores.narrow(0, i, 1), allIds.narrow(0, i, 1), rows[i].Options, generators[i])[0];
        }
        return picked;
    }
}

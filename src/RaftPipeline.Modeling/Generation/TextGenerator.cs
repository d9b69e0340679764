using RaftPipeline.Modeling.Decoder;
using TorchSharp;
using static TorchSharp.torch;

namespace RaftPipeline.Modeling.Generation;

/// <summary>
/// Autoregressive generation over a <see cref="CausalLM"/> as transformers' generate() does it: prompts
/// left-padded into one batch with an attention mask (positions from the mask), a KV cache, the logits
/// processors in order, argmax or a seeded multinomial draw, finished rows filled with the pad id. One dispose
/// scope per generated token, so native memory stays flat however long it runs.
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
        if (prompts.Any(p => p.Count == 0)) throw new ArgumentException("every prompt needs at least one token");
        if (options.StopStrings.Count > 0 && decode is null)
            throw new ArgumentException("stop strings need a decode callback to turn ids into text");

        int batch = prompts.Count;
        int width = prompts.Max(p => p.Count);
        int capacity = width + options.MaxNewTokens;
        var device = model.Device;
        // The running sequences (prompt with left padding, then new tokens) and their 0/1 mask live in fixed
        // buffers of the final width; each step writes one column and works on views, so no step allocates
        // anything that outlives it, and step sizes do not creep up and fragment the native heap.
        var idsHost = new long[batch * capacity];
        var maskHost = new long[batch * capacity];
        Array.Fill(idsHost, options.PadTokenId);
        for (int i = 0; i < batch; i++)
        {
            int pad = width - prompts[i].Count;
            for (int j = 0; j < prompts[i].Count; j++)
            {
                idsHost[i * capacity + pad + j] = prompts[i][j];
                maskHost[i * capacity + pad + j] = 1;
            }
        }
        using var idsBuffer = torch.tensor(idsHost, [batch, capacity], device: device).DetachFromDisposeScope();
        using var maskBuffer = torch.tensor(maskHost, [batch, capacity], device: device).DetachFromDisposeScope();
        var newIds = Enumerable.Range(0, batch).Select(_ => new List<int>()).ToArray();
        var finish = Enumerable.Repeat(FinishReason.Length, batch).ToArray();
        var done = new bool[batch];
        var eos = options.EosTokenIds.ToHashSet();

        // The draw happens on the CPU whatever the model's device: TorchSharp 0.107's Generator(seed, cuda) still makes
        // a CPU generator, which CUDA's multinomial refuses (measured on the H100), and one CPU stream makes a seed
        // mean the same draws on every device. The probabilities are one vocabulary-sized row per sequence.
        using var generator = options.DoSample
            ? new torch.Generator((ulong)(options.Seed ?? DateTime.UtcNow.Ticks), torch.CPU)
            : null;
        using var cache = new KvCache(model.Config.NumHiddenLayers, capacity);
        using var noGrad = torch.no_grad();

        int length = width;
        for (int step = 0; step < options.MaxNewTokens && done.Contains(false); step++)
        {
            cancellation.ThrowIfCancellationRequested();
            using var scope = torch.NewDisposeScope();
            var allIds = idsBuffer.narrow(1, 0, length);
            var mask = maskBuffer.narrow(1, 0, length);
            var input = step == 0 ? allIds : allIds.narrow(1, length - 1, 1);

            var logits = model.Forward(input, mask, cache: cache, logitsToKeep: 1).Logits;
            // transformers processes the last position's logits in fp32.
            var scores = logits.select(1, 0).to(ScalarType.Float32);
            scores = LogitsProcessors.Apply(scores, allIds, options);
            var next = options.DoSample
                ? scores.softmax(-1).cpu().multinomial(1, generator: generator).squeeze(-1)
                : scores.argmax(-1);
            var picked = next.cpu().data<long>().ToArray();

            for (int i = 0; i < batch; i++)
            {
                if (done[i]) picked[i] = options.PadTokenId; // finished rows are filled with pad, as transformers does
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
                if (eos.Contains(token))
                {
                    done[i] = true;
                    finish[i] = FinishReason.EndOfSequence;
                }
                else if (options.StopStrings.Count > 0)
                {
                    var text = decode!(newIds[i]);
                    if (options.StopStrings.Any(s => text.Contains(s, StringComparison.Ordinal)))
                    {
                        done[i] = true;
                        finish[i] = FinishReason.StopString;
                    }
                }
            }
        }
        return Enumerable.Range(0, batch).Select(i => new GeneratedSequence(prompts[i], newIds[i], finish[i])).ToList();
    }
}

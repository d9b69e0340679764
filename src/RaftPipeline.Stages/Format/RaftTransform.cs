using RaftPipeline.Stages.Data;

namespace RaftPipeline.Stages.Format;

/// <summary>
/// Turns dataset rows into chat examples, applying RAFT when asked. A pure, seeded function: the same rows and
/// options give the same examples, in the same order, on every machine.
/// </summary>
public static class RaftTransform
{
    public static IReadOnlyList<ChatExample> Build(IReadOnlyList<DatasetRow> rows, FormatOptions options)
    {
        var raft = options.Raft;
        Validate(raft);
        string? system = string.IsNullOrEmpty(options.SystemPrompt) ? null : options.SystemPrompt;
        var random = new SplitMix64(raft.Seed);

        // Distractors are drawn from distinct paragraphs (several questions may share one), in first-seen order.
        var contexts = rows.Select(r => r.Context).Distinct(StringComparer.Ordinal).ToArray();
        var contextIndex = contexts.Select((c, i) => (c, i)).ToDictionary(p => p.c, p => p.i, StringComparer.Ordinal);

        var examples = new List<ChatExample>(rows.Count);
        foreach (var row in rows)
        {
            if (!row.Answerable || raft.DistractorCount == 0)
            {
                examples.Add(Example(row.Context, row, row.Answer, ExampleKind.Plain, 1));
                continue;
            }
            var shown = Sample(contexts, contextIndex[row.Context], raft.DistractorCount, random, row);
            bool keepOracle = random.NextDouble() < raft.OracleProbability;
            if (keepOracle) shown.Add(row.Context);
            DeterministicShuffle.InPlace(shown, random);
            // Without the oracle the contexts do not hold the answer: refuse, as synthesized negatives do (RaftOptions.
            // RefuseWithoutOracle); the paper's variant keeps the answer so the model answers from what it has learned.
            string answer = keepOracle || !raft.RefuseWithoutOracle ? row.Answer : options.RefusalAnswer;
            examples.Add(Example(string.Join(raft.ContextSeparator, shown), row, answer,
                keepOracle ? ExampleKind.RaftWithOracle : ExampleKind.RaftDistractorsOnly, shown.Count));
        }

        var answerable = rows.Where(r => r.Answerable).ToList();
        int negatives = (int)Math.Round(raft.NegativeFraction * answerable.Count, MidpointRounding.AwayFromZero);
        if (negatives > 0)
        {
            // Each answerable question is used once before any is used twice.
            var order = DeterministicShuffle.Copy(Enumerable.Range(0, answerable.Count), random.NextUInt64());
            for (int i = 0; i < negatives; i++)
            {
                var row = answerable[order[i % order.Count]];
                var shown = Sample(contexts, contextIndex[row.Context], raft.ContextsPerNegative, random, row);
                examples.Add(Example(string.Join(raft.ContextSeparator, shown), row, options.RefusalAnswer,
                    ExampleKind.SynthesizedNegative, shown.Count));
            }
        }

        if (raft.ShuffleOutput) DeterministicShuffle.InPlace(examples, random);
        return examples;

        ChatExample Example(string context, DatasetRow row, string answer, ExampleKind kind, int count) =>
            new(system, options.UserTemplate.Render(context, row.Question), answer, kind, count, row.Source, row.SourceRow);
    }

    /// <summary><paramref name="count"/> distinct contexts other than the row's own, by rejection (k is small next to the pool).</summary>
    private static List<string> Sample(string[] contexts, int own, int count, SplitMix64 random, DatasetRow row)
    {
        if (count > contexts.Length - 1)
            throw new ArgumentException(
                $"RAFT needs {count} other contexts for {row.Source} row {row.SourceRow} but the data has only " +
                $"{contexts.Length - 1} distinct contexts besides its own; lower the distractor or negative context count");
        var chosen = new List<int>(count);
        while (chosen.Count < count)
        {
            int pick = random.NextBelow(contexts.Length);
            if (pick != own && !chosen.Contains(pick)) chosen.Add(pick);
        }
        return chosen.Select(i => contexts[i]).ToList();
    }

    private static void Validate(RaftOptions raft)
    {
        if (raft.DistractorCount < 0) throw new ArgumentException($"RAFT distractor count must not be negative, got {raft.DistractorCount}");
        if (raft.OracleProbability is < 0 or > 1 || double.IsNaN(raft.OracleProbability))
            throw new ArgumentException($"RAFT oracle probability must be in [0, 1], got {raft.OracleProbability}");
        if (raft.NegativeFraction < 0 || double.IsNaN(raft.NegativeFraction))
            throw new ArgumentException($"RAFT negative fraction must not be negative, got {raft.NegativeFraction}");
        if (raft.NegativeContextCount is < 1)
            throw new ArgumentException($"RAFT negative context count must be at least 1, got {raft.NegativeContextCount}");
    }
}

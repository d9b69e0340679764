namespace RaftPipeline.Stages.Format;

/// <summary>
/// Retrieval-Augmented Fine-Tuning (Zhang et al., 2024, "RAFT: Adapting Language Model to Domain Specific RAG"):
/// each answerable question is shown with k distractor documents, the oracle document kept with probability P,
/// and synthesized negatives teach the refusal. All draws come from <see cref="Seed"/>.
/// </summary>
public sealed record RaftOptions
{
    /// <summary>k: distractor contexts per answerable example; 0 turns RAFT off (each row keeps its own context only).</summary>
    public int DistractorCount { get; init; }

    /// <summary>P: chance the oracle context is kept among the distractors (the paper's best results kept it in 80%).</summary>
    public double OracleProbability { get; init; } = 0.8;

    /// <summary>
    /// When the oracle is dropped, answer with the refusal instead of the unchanged answer. On by default, unlike the
    /// paper (which keeps the answer so the model learns the domain beyond the documents shown): in this recipe a
    /// question shown only unrelated contexts is exactly what a synthesized negative is, answered with the refusal, so
    /// keeping the answer here would teach both answers for one kind of input. Off gives the paper's behaviour.
    /// </summary>
    public bool RefuseWithoutOracle { get; init; } = true;

    /// <summary>Synthesized negatives as a share of the answerable rows (0.25 → one per four answerable rows).</summary>
    public double NegativeFraction { get; init; }

    /// <summary>
    /// Unrelated contexts shown with a synthesized negative; null means k + 1 (1 when k is 0), as many as an example
    /// that kept its oracle, so the number of contexts does not give the answer away.
    /// </summary>
    public int? NegativeContextCount { get; init; }

    /// <summary>Placed between contexts when several are shown.</summary>
    public string ContextSeparator { get; init; } = "\n\n";

    public ulong Seed { get; init; } = 1234;

    /// <summary>Shuffle the final examples so synthesized negatives are not all at the end of an epoch.</summary>
    public bool ShuffleOutput { get; init; } = true;

    public int ContextsPerNegative => NegativeContextCount ?? (DistractorCount > 0 ? DistractorCount + 1 : 1);
}

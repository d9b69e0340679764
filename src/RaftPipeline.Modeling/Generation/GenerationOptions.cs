namespace RaftPipeline.Modeling.Generation;

/// <summary>
/// How to continue prompts. Defaults mean "off" (greedy, no penalty); note that transformers' own
/// GenerationConfig defaults top_k to 50 when sampling, so a caller mirroring it must pass TopK = 50 itself.
/// </summary>
public sealed record GenerationOptions
{
    public int MaxNewTokens { get; init; } = 128;
    /// <summary>false: greedy (argmax of the processed logits); true: multinomial sampling.</summary>
    public bool DoSample { get; init; }
    /// <summary>Applied when sampling and ≠ 1.</summary>
    public double Temperature { get; init; } = 1.0;
    /// <summary>Applied when sampling and &gt; 0.</summary>
    public int TopK { get; init; }
    /// <summary>Applied when sampling and &lt; 1.</summary>
    public double TopP { get; init; } = 1.0;
    /// <summary>Applied (greedy or sampling) when ≠ 1, over every id in the sequence so far, prompt included.</summary>
    public double RepetitionPenalty { get; init; } = 1.0;
    /// <summary>Seed of the sampling generator; null draws from a time-based seed.</summary>
    public long? Seed { get; init; }
    public IReadOnlyList<int> EosTokenIds { get; init; } = [];
    /// <summary>Stop once the decoded continuation contains one of these (needs a decode callback).</summary>
    public IReadOnlyList<string> StopStrings { get; init; } = [];
    /// <summary>Fills left padding and the slots of sequences that already finished (as transformers does).</summary>
    public int PadTokenId { get; init; }

    public void Validate()
    {
        if (MaxNewTokens < 0) throw new ArgumentOutOfRangeException(nameof(MaxNewTokens), MaxNewTokens, "must be ≥ 0");
        if (Temperature <= 0) throw new ArgumentOutOfRangeException(nameof(Temperature), Temperature, "must be > 0 (use DoSample = false for greedy)");
        if (TopK < 0) throw new ArgumentOutOfRangeException(nameof(TopK), TopK, "must be ≥ 0 (0 = off)");
        if (TopP is <= 0 or > 1) throw new ArgumentOutOfRangeException(nameof(TopP), TopP, "must be in (0, 1]");
        if (RepetitionPenalty <= 0) throw new ArgumentOutOfRangeException(nameof(RepetitionPenalty), RepetitionPenalty, "must be > 0");
    }
}

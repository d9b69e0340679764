namespace RaftPipeline.Stages.Format;

/// <summary>Where a training example came from, so statistics and reports can tell them apart.</summary>
public enum ExampleKind
{
    /// <summary>A dataset row with its own context only (RAFT off, or an unanswerable row from the data).</summary>
    Plain,
    /// <summary>RAFT: the oracle context shuffled in among k distractors.</summary>
    RaftWithOracle,
    /// <summary>RAFT: k distractors only, the oracle dropped; answered with the refusal (or, the paper's variant, the unchanged answer).</summary>
    RaftDistractorsOnly,
    /// <summary>A question paired with unrelated contexts only, answered with the refusal.</summary>
    SynthesizedNegative,
}

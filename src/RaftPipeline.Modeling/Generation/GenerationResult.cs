namespace RaftPipeline.Modeling.Generation;

public enum FinishReason
{
    /// <summary>max_new_tokens reached.</summary>
    Length,
    /// <summary>An eos id was generated (it is included in the tokens).</summary>
    EndOfSequence,
    /// <summary>A stop string appeared in the decoded continuation.</summary>
    StopString,
}

/// <summary>The continuation of one prompt: the new ids only (ending with the eos id when that stopped it).</summary>
public sealed record GeneratedSequence(IReadOnlyList<int> PromptIds, IReadOnlyList<int> NewIds, FinishReason Finish);

/// <summary>One new token as it is produced, for streaming.</summary>
public readonly record struct GeneratedToken(int Sequence, int Step, int TokenId);

namespace RaftPipeline.Modeling.Generation;

public enum FinishReason
{
    /// <summary>max_new_tokens reached.</summary>
    Length,
    /// <summary>An eos id was generated (it is included in the tokens).</summary>
    EndOfSequence,
    /// <summary>A stop string appeared in the decoded continuation.</summary>
    StopString,
    /// <summary>The row's cancellation token fired (a client went away); the other rows of its batch went on.</summary>
    Cancelled,
}

/// <summary>The continuation of one prompt: the new ids only (ending with the eos id when that stopped it).</summary>
public sealed record GeneratedSequence(IReadOnlyList<int> PromptIds, IReadOnlyList<int> NewIds, FinishReason Finish);

/// <summary>One new token as it is produced, for streaming.</summary>
public readonly record struct GeneratedToken(int Sequence, int Step, int TokenId);

/// <summary>One prompt of a batch with its own options and cancellation (a server request).</summary>
public sealed record GenerationRow(IReadOnlyList<int> PromptIds, GenerationOptions Options, CancellationToken Cancellation = default);

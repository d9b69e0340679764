namespace RaftPipeline.Stages.Eval;

/// <summary>One model's answer to one row, with the rules it meets (<see cref="AnswerScorer"/>).</summary>
/// <param name="QuotedSpan">The verbatim context span found after the marker, or null.</param>
/// <param name="LossTokens">Reference tokens scored for the loss; <paramref name="LossSum"/> is their summed cross-entropy.</param>
public sealed record AnswerScore(string Answer, bool Opening, string? QuotedSpan, bool Refusal, double LossSum, int LossTokens)
{
    public bool Quote => QuotedSpan is not null;
}

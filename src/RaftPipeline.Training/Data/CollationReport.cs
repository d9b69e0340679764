namespace RaftPipeline.Training.Data;

/// <summary>Counts over a labelled dataset, reported before training so silent data loss is visible.</summary>
public sealed record CollationReport(int Rows, int Truncated, int AnswerCutAway, int TemplateMissing, long SupervisedTokens)
{
    public static CollationReport Of(IReadOnlyCollection<LabeledRow> rows) => new(
        rows.Count,
        rows.Count(r => r.Status == RowStatus.Truncated),
        rows.Count(r => r.Status == RowStatus.AnswerCutAway),
        rows.Count(r => r.Status == RowStatus.TemplateMissing),
        rows.Sum(r => (long)r.SupervisedTokens));

    public override string ToString() =>
        $"{Rows} rows, {SupervisedTokens} supervised tokens; {Truncated} truncated, " +
        $"{AnswerCutAway} with the answer cut away entirely by max_seq_length, {TemplateMissing} without the response template";
}

namespace RaftPipeline.Stages.Eval;

/// <summary>
/// One model's metrics over the evaluated rows: the rates are shares of answerable rows (opening, quote) or of
/// unanswerable rows (refusal), null when there is no such row; the loss is the mean cross-entropy per reference token
/// over all rows (token-weighted, not a mean of row means).
/// </summary>
public sealed record ModelMetrics(
    int Answerable, int Unanswerable, int Openings, int Quotes, int Refusals, double LossSum, int LossTokens)
{
    public double? OpeningRate => Answerable == 0 ? null : (double)Openings / Answerable;
    public double? QuoteRate => Answerable == 0 ? null : (double)Quotes / Answerable;
    public double? RefusalRate => Unanswerable == 0 ? null : (double)Refusals / Unanswerable;
    public double Loss => LossSum / LossTokens;

    public static ModelMetrics From(IReadOnlyList<(bool Answerable, AnswerScore Score)> rows) => new(
        rows.Count(r => r.Answerable),
        rows.Count(r => !r.Answerable),
        rows.Count(r => r.Answerable && r.Score.Opening),
        rows.Count(r => r.Answerable && r.Score.Quote),
        rows.Count(r => !r.Answerable && r.Score.Refusal),
        rows.Sum(r => r.Score.LossSum),
        rows.Sum(r => r.Score.LossTokens));
}

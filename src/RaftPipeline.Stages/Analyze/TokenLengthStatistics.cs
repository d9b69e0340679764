namespace RaftPipeline.Stages.Analyze;

/// <summary>
/// The token-length statistics the notebook's <c>analyze_token_distribution</c> prints, computed with numpy's
/// semantics: <see cref="Std"/> is the population standard deviation (<c>np.std</c>'s default ddof = 0) and the
/// percentiles use <c>np.percentile</c>'s default linear interpolation.
/// </summary>
/// <param name="OverMaxSeqLength">Rows longer than <paramref name="MaxSeqLength"/>: the trainer would truncate them.</param>
public sealed record TokenLengthStatistics(
    int Count,
    double Mean,
    double Median,
    int Min,
    int Max,
    double Std,
    double P90,
    double P95,
    double P99,
    int? MaxSeqLength,
    int OverMaxSeqLength)
{
    public static TokenLengthStatistics Compute(IReadOnlyList<int> lengths, int? maxSeqLength)
    {
        if (lengths.Count == 0) throw new ArgumentException("no token lengths to analyze", nameof(lengths));
        if (lengths.Any(l => l < 0)) throw new ArgumentException("a token length is negative", nameof(lengths));
        var sorted = lengths.Select(l => (double)l).Order().ToArray();
        int n = sorted.Length;

        // Integer sums are exact in a double below 2^53, so this is numpy's mean to the last bit.
        double mean = lengths.Sum(l => (long)l) / (double)n;
        double squares = 0;
        foreach (var x in sorted) squares += (x - mean) * (x - mean);
        double std = Math.Sqrt(squares / n);

        return new TokenLengthStatistics(
            n, mean,
            Median: NumpyPercentile.Of(sorted, 50),
            Min: (int)sorted[0],
            Max: (int)sorted[^1],
            std,
            P90: NumpyPercentile.Of(sorted, 90),
            P95: NumpyPercentile.Of(sorted, 95),
            P99: NumpyPercentile.Of(sorted, 99),
            maxSeqLength,
            OverMaxSeqLength: maxSeqLength is int max ? lengths.Count(l => l > max) : 0);
    }
}

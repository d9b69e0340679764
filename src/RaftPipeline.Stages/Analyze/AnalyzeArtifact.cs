namespace RaftPipeline.Stages.Analyze;

/// <summary>
/// What analyze writes: <c>statistics.json</c>, <c>statistics.txt</c> (the console table), <c>token_lengths.json</c>
/// (one length per formatted text, in order) and <c>histogram.png</c>.
/// </summary>
public static class AnalyzeArtifact
{
    public const string StatisticsJson = "statistics.json";
    public const string StatisticsText = "statistics.txt";
    public const string TokenLengths = "token_lengths.json";
    public const string Histogram = "histogram.png";

    /// <summary>Writes every file of the analysis of <paramref name="lengths"/> into <paramref name="directory"/>.</summary>
    public static TokenLengthStatistics Write(string directory, IReadOnlyList<int> lengths, int? maxSeqLength, int? bins)
    {
        var statistics = TokenLengthStatistics.Compute(lengths, maxSeqLength);
        File.WriteAllText(Path.Combine(directory, StatisticsJson), TokenStatisticsReport.ToJsonText(statistics));
        File.WriteAllText(Path.Combine(directory, StatisticsText), TokenStatisticsReport.ToTable(statistics));
        File.WriteAllText(Path.Combine(directory, TokenLengths), "[" + string.Join(",", lengths) + "]\n");
        TokenHistogramPlot.SavePng(Path.Combine(directory, Histogram), lengths, maxSeqLength, bins: bins);
        return statistics;
    }
}

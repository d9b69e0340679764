using RaftPipeline.Stages.Analyze;

namespace RaftPipeline.Stages.Tests.Analyze;

public class TokenLengthStatisticsTests
{
    [Fact]
    public void Matches_values_computed_by_hand_with_numpy_semantics()
    {
        // By hand for [1, 2, 3, 4, 10]: mean 4; np.std (ddof 0) = sqrt((9+4+1+0+36)/5) = sqrt(10);
        // np.percentile linear: index (n-1)q/100 = 3.6, 3.8, 3.96 between 4 and 10 → 7.6, 8.8, 9.76.
        var s = TokenLengthStatistics.Compute([10, 3, 1, 4, 2], maxSeqLength: 3);
        Assert.Equal(5, s.Count);
        Assert.Equal(4.0, s.Mean);
        Assert.Equal(3.0, s.Median);
        Assert.Equal((1, 10), (s.Min, s.Max));
        Assert.Equal(Math.Sqrt(10), s.Std, 12);
        Assert.NotEqual(Math.Sqrt(50.0 / 4), s.Std, 6); // not the sample std (ddof 1)
        Assert.Equal(7.6, s.P90, 12);
        Assert.Equal(8.8, s.P95, 12);
        Assert.Equal(9.76, s.P99, 12);
        Assert.Equal(2, s.OverMaxSeqLength); // 4 and 10 are longer than 3; 3 itself is not
    }

    [Fact]
    public void Median_of_an_even_count_is_the_mean_of_the_middle_pair()
    {
        var s = TokenLengthStatistics.Compute([5, 1, 3, 2], maxSeqLength: null);
        Assert.Equal(2.5, s.Median);
        Assert.Equal(4.4, s.P90, 12); // index 2.7: 3 + 0.7 * (5 - 3)
        Assert.Equal(0, s.OverMaxSeqLength);
        Assert.Null(s.MaxSeqLength);
    }

    [Fact]
    public void A_single_value_has_zero_spread()
    {
        var s = TokenLengthStatistics.Compute([42], 100);
        Assert.Equal((42.0, 42.0, 0.0, 42.0, 42.0), (s.Mean, s.Median, s.Std, s.P90, s.P99));
        Assert.Throws<ArgumentException>(() => TokenLengthStatistics.Compute([], 100));
    }

    [Fact]
    public void Percentile_endpoints_are_exact()
    {
        double[] sorted = [1, 2, 4, 8];
        Assert.Equal(1, NumpyPercentile.Of(sorted, 0));
        Assert.Equal(8, NumpyPercentile.Of(sorted, 100));
        Assert.Equal(3, NumpyPercentile.Of(sorted, 50));
        Assert.Equal(1.75, NumpyPercentile.Of(sorted, 25)); // index 0.75 → from the upper end: 2 - 0.25 * (2 - 1)
    }

    [Fact]
    public void Json_and_table_carry_every_statistic()
    {
        var s = TokenLengthStatistics.Compute([10, 3, 1, 4, 2], maxSeqLength: 3);
        var json = System.Text.Json.Nodes.JsonNode.Parse(TokenStatisticsReport.ToJsonText(s))!.AsObject();
        Assert.Equal(
            ["count", "mean", "median", "min", "max", "std", "std_ddof", "p90", "p95", "p99", "max_seq_length", "over_max_seq_length"],
            json.Select(p => p.Key));
        Assert.Equal((5, 1, 10, 0, 3, 2), ((int)json["count"]!, (int)json["min"]!, (int)json["max"]!, (int)json["std_ddof"]!,
            (int)json["max_seq_length"]!, (int)json["over_max_seq_length"]!));
        foreach (var (key, expected) in new[] { ("mean", 4.0), ("median", 3.0), ("std", Math.Sqrt(10)), ("p90", 7.6), ("p95", 8.8), ("p99", 9.76) })
            Assert.Equal(expected, (double)json[key]!, 12);
        Assert.Equal(
            "Token length statistics\n" +
            "  count   5\n  mean    4.00\n  median  3.00\n  std     3.16  (population, as np.std)\n  min     1\n  max     10\n" +
            "  p90     7.60\n  p95     8.80\n  p99     9.76\n  > 3     2 rows (40.00%) would be truncated\n",
            TokenStatisticsReport.ToTable(s));
    }
}

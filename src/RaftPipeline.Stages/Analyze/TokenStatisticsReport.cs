using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace RaftPipeline.Stages.Analyze;

/// <summary>The statistics as JSON (artifact and metrics) and as the plain-text table the console shows.</summary>
public static class TokenStatisticsReport
{
    public static JsonObject ToJson(TokenLengthStatistics s)
    {
        var json = new JsonObject
        {
            ["count"] = s.Count,
            ["mean"] = s.Mean,
            ["median"] = s.Median,
            ["min"] = s.Min,
            ["max"] = s.Max,
            ["std"] = s.Std,
            // Says which std this is: numpy's np.std default (population), which the notebook printed.
            ["std_ddof"] = 0,
            ["p90"] = s.P90,
            ["p95"] = s.P95,
            ["p99"] = s.P99,
            ["max_seq_length"] = s.MaxSeqLength,
            ["over_max_seq_length"] = s.OverMaxSeqLength,
        };
        return json;
    }

    public static string ToJsonText(TokenLengthStatistics s) =>
        ToJson(s).ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n";

    /// <summary>An aligned two-column table; numbers with two decimals, invariant culture.</summary>
    public static string ToTable(TokenLengthStatistics s)
    {
        var rows = new List<(string, string)>
        {
            ("count", s.Count.ToString(CultureInfo.InvariantCulture)),
            ("mean", F(s.Mean)),
            ("median", F(s.Median)),
            ("std", F(s.Std) + "  (population, as np.std)"),
            ("min", s.Min.ToString(CultureInfo.InvariantCulture)),
            ("max", s.Max.ToString(CultureInfo.InvariantCulture)),
            ("p90", F(s.P90)),
            ("p95", F(s.P95)),
            ("p99", F(s.P99)),
        };
        if (s.MaxSeqLength is int max)
            rows.Add(($"> {max}", $"{s.OverMaxSeqLength} rows ({F(100.0 * s.OverMaxSeqLength / s.Count)}%) would be truncated"));

        int width = rows.Max(r => r.Item1.Length);
        var text = new StringBuilder("Token length statistics\n");
        foreach (var (name, value) in rows) text.Append("  ").Append(name.PadRight(width)).Append("  ").Append(value).Append('\n');
        return text.ToString();

        static string F(double v) => v.ToString("0.00", CultureInfo.InvariantCulture);
    }
}

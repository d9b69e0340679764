using System.Text.Json;
using System.Text.Json.Nodes;

namespace RaftPipeline.Stages.Report;

/// <summary>
/// train's report folder: <c>metrics.jsonl</c> (one object per log: step, epoch, loss, learning_rate, grad_norm, …;
/// evaluation rows carry eval_loss) and <c>train_summary.json</c>. A bad line is noted and passed over; the rest
/// still draws.
/// </summary>
internal static class TrainSectionReader
{
    public const string MetricsFile = "metrics.jsonl";
    public const string SummaryFile = "train_summary.json";

    /// <summary>At most this many bad lines are named one by one; the rest are counted.</summary>
    const int NamedBadLines = 5;

    public static TrainSection? Read(StageFiles files)
    {
        var rows = new List<TrainLogRow>();
        bool haveMetrics = false;
        if (files.Find(MetricsFile) is { } metricsPath)
        {
            haveMetrics = true;
            var bad = new List<string>();
            var lines = File.ReadAllLines(metricsPath);
            for (int i = 0; i < lines.Length; i++)
            {
                if (string.IsNullOrWhiteSpace(lines[i])) continue;
                try
                {
                    var o = JsonNode.Parse(lines[i]) as JsonObject ?? throw new FormatException("not a JSON object");
                    var step = ReportJson.Integer(o, "step") ?? throw new FormatException("no \"step\"");
                    rows.Add(new TrainLogRow((int)step,
                        ReportJson.Number(o, "epoch"), ReportJson.Number(o, "loss"), ReportJson.Number(o, "learning_rate"),
                        ReportJson.Number(o, "eval_loss"), ReportJson.Number(o, "grad_norm")));
                }
                catch (Exception e) when (e is JsonException or FormatException)
                {
                    bad.Add($"line {i + 1}: {ReportJson.Describe(e, withLine: false)}");
                }
            }
            if (bad.Count > 0)
            {
                var named = string.Join("; ", bad.Take(NamedBadLines));
                var more = bad.Count > NamedBadLines ? $"; and {bad.Count - NamedBadLines} more" : "";
                files.Notes.Add($"{files.Display(metricsPath)}: {bad.Count} malformed line{(bad.Count == 1 ? "" : "s")} passed over ({named}{more}).");
            }
            if (rows.Count == 0) files.Notes.Add($"{files.Display(metricsPath)} has no log rows.");
        }

        JsonObject? summary = null;
        if (files.Find(SummaryFile) is { } summaryPath)
        {
            try
            {
                summary = ReportJson.ReadObject(summaryPath);
            }
            catch (Exception e) when (e is JsonException or FormatException)
            {
                files.Notes.Add($"{files.Display(summaryPath)} is not readable JSON ({ReportJson.Describe(e)}).");
            }
        }

        return !haveMetrics && summary is null ? null : new TrainSection(rows.OrderBy(r => r.Step).ToList(), summary);
    }
}

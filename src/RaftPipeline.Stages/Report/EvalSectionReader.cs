using System.Text.Json;
using System.Text.Json.Nodes;

namespace RaftPipeline.Stages.Report;

/// <summary>
/// eval's <c>eval.json</c>: <c>{"rows", "answerable", "unanswerable", "models": {"base": {...}, "tuned": {...}}}</c>,
/// per model opening_rate, quote_rate, refusal_rate and loss (and whatever else it measured).
/// </summary>
internal static class EvalSectionReader
{
    public const string EvalFile = "eval.json";

    /// <summary>The recipe's metrics first, in the order the issue names them; any others follow as found.</summary>
    static readonly string[] KnownMetrics = ["opening_rate", "quote_rate", "refusal_rate", "loss"];
    static readonly string[] KnownModels = ["base", "tuned"];

    public static EvalSection? Read(StageFiles files)
    {
        if (files.Find(EvalFile) is not { } path) return null;
        var display = files.Display(path);
        try
        {
            var o = ReportJson.ReadObject(path);
            var models = o["models"] as JsonObject;
            if (models is null) files.Notes.Add($"{display} has no \"models\" object: no base or tuned metrics to show.");

            var metrics = new List<string>();
            var columns = new List<EvalModelColumn>();
            var names = KnownModels.Where(m => models?.ContainsKey(m) == true).Concat(models?.Select(p => p.Key).Except(KnownModels) ?? []);
            foreach (var name in names)
            {
                if (models![name] is not JsonObject values)
                {
                    columns.Add(new EvalModelColumn(name, null));
                    continue;
                }
                var read = new Dictionary<string, double?>();
                foreach (var (metric, value) in values)
                {
                    if (value is JsonValue v && v.GetValueKind() == JsonValueKind.Number) read[metric] = v.GetValue<double>();
                    else if (value is null) read[metric] = null;
                    else continue; // Not a metric (a nested breakdown or a label): the table shows numbers only.
                    if (!metrics.Contains(metric)) metrics.Add(metric);
                }
                columns.Add(new EvalModelColumn(name, read));
            }
            var ordered = KnownMetrics.Where(metrics.Contains).Concat(metrics.Except(KnownMetrics)).ToList();
            return new EvalSection(ReportJson.Integer(o, "rows"), ReportJson.Integer(o, "answerable"), ReportJson.Integer(o, "unanswerable"), ordered, columns);
        }
        catch (Exception e) when (e is JsonException or FormatException)
        {
            files.Notes.Add($"{display} is not readable ({ReportJson.Describe(e)}).");
            return null;
        }
    }
}

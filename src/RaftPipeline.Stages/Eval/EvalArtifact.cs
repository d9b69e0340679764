using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using RaftPipeline.Stages.Data;

namespace RaftPipeline.Stages.Eval;

/// <summary>One evaluated row: the data and, per model that ran ("base", "tuned"), its scored answer.</summary>
public sealed record RowPrediction(DatasetRow Row, IReadOnlyDictionary<string, AnswerScore> Answers);

/// <summary>
/// The eval stage's artifact: <c>eval.json</c> {"rows", "answerable", "unanswerable", "rules", "models": {"base": {...},
/// "tuned": {...}}} (a model that did not run is absent), <c>predictions.jsonl</c> (one row per line with each model's
/// answer and the rules it met) and <c>eval.md</c> (the base-vs-tuned table).
/// </summary>
public static class EvalArtifact
{
    public const string EvalFile = "eval.json";
    public const string PredictionsFile = "predictions.jsonl";
    public const string MarkdownFile = "eval.md";

    static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    static readonly JsonSerializerOptions Compact = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static JsonObject Write(string directory, IReadOnlyList<RowPrediction> predictions,
        IReadOnlyDictionary<string, ModelMetrics> models, AnswerScorer scorer)
    {
        var eval = ToJson(predictions, models, scorer);
        File.WriteAllText(Path.Combine(directory, EvalFile), eval.ToJsonString(Indented) + "\n", new UTF8Encoding(false));
        var lines = new StringBuilder();
        for (int i = 0; i < predictions.Count; i++) lines.Append(PredictionJson(i, predictions[i]).ToJsonString(Compact)).Append('\n');
        File.WriteAllText(Path.Combine(directory, PredictionsFile), lines.ToString(), new UTF8Encoding(false));
        File.WriteAllText(Path.Combine(directory, MarkdownFile), ToMarkdown(predictions.Count, models, scorer), new UTF8Encoding(false));
        return eval;
    }

    public static JsonObject ToJson(IReadOnlyList<RowPrediction> predictions, IReadOnlyDictionary<string, ModelMetrics> models, AnswerScorer scorer)
    {
        var modelsJson = new JsonObject();
        foreach (var (name, m) in models)
            modelsJson[name] = new JsonObject
            {
                ["opening_rate"] = m.OpeningRate,
                ["quote_rate"] = m.QuoteRate,
                ["refusal_rate"] = m.RefusalRate,
                ["loss"] = m.Loss,
                ["openings"] = m.Openings,
                ["quotes"] = m.Quotes,
                ["refusals"] = m.Refusals,
                ["loss_tokens"] = m.LossTokens,
            };
        return new JsonObject
        {
            ["rows"] = predictions.Count,
            ["answerable"] = predictions.Count(p => p.Row.Answerable),
            ["unanswerable"] = predictions.Count(p => !p.Row.Answerable),
            ["rules"] = new JsonObject
            {
                ["opening"] = scorer.Opening,
                ["marker"] = scorer.Marker,
                ["quote_min_chars"] = scorer.QuoteMinChars,
                ["refusal"] = scorer.Refusal,
            },
            ["models"] = modelsJson,
        };
    }

    static JsonObject PredictionJson(int index, RowPrediction p)
    {
        var o = new JsonObject
        {
            ["index"] = index,
            ["source"] = p.Row.Source,
            ["row"] = p.Row.SourceRow,
            ["answerable"] = p.Row.Answerable,
            ["question"] = p.Row.Question,
            ["reference"] = p.Row.Answer,
        };
        foreach (var (name, a) in p.Answers)
            o[name] = new JsonObject
            {
                ["answer"] = a.Answer,
                ["opening"] = a.Opening,
                ["quote"] = a.QuotedSpan,
                ["refusal"] = a.Refusal,
                ["loss"] = a.LossSum / a.LossTokens,
            };
        return o;
    }

    public static string ToMarkdown(int rows, IReadOnlyDictionary<string, ModelMetrics> models, AnswerScorer scorer)
    {
        var first = models.Values.First();
        var md = new StringBuilder("# Evaluation\n\n");
        md.Append($"{rows} held-out rows: {first.Answerable} answerable, {first.Unanswerable} unanswerable.\n\n");
        md.Append("| metric | ").Append(string.Join(" | ", models.Keys)).Append(" |\n");
        md.Append("|---|").Append(string.Concat(models.Keys.Select(_ => "---:|"))).Append('\n');
        Row(md, $"opens with “{scorer.Opening}” (answerable)", models.Values.Select(m => Rate(m.OpeningRate, m.Openings, m.Answerable)));
        Row(md, $"quotes the context after “{scorer.Marker}”, ≥ {scorer.QuoteMinChars} chars (answerable)",
            models.Values.Select(m => Rate(m.QuoteRate, m.Quotes, m.Answerable)));
        Row(md, $"refuses with “{scorer.Refusal}” (unanswerable)", models.Values.Select(m => Rate(m.RefusalRate, m.Refusals, m.Unanswerable)));
        Row(md, "held-out loss per answer token", models.Values.Select(m => m.Loss.ToString("F4", CultureInfo.InvariantCulture)));
        return md.ToString();
    }

    static void Row(StringBuilder md, string metric, IEnumerable<string> cells) =>
        md.Append("| ").Append(metric.Replace("|", "\\|")).Append(" | ").Append(string.Join(" | ", cells)).Append(" |\n");

    static string Rate(double? rate, int count, int of) =>
        rate is null ? "–" : $"{(rate.Value * 100).ToString("F1", CultureInfo.InvariantCulture)}% ({count}/{of})";
}

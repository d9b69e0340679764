using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using RaftPipeline.Core.Engine;
using static RaftPipeline.Stages.Report.ReportText;

namespace RaftPipeline.Stages.Report;

/// <summary>
/// <c>report.md</c>: the same content as the HTML page in GitHub-flavoured Markdown. Images are linked by their
/// path relative to the run folder; the curves, which only the HTML draws, are given as a table of log rows.
/// </summary>
public static class MarkdownReportWriter
{
    /// <summary>The log table shows at most this many rows (evenly spaced, first and last kept).</summary>
    public const int MaxLogRows = 12;

    public static string Render(RunReportModel model)
    {
        var m = new StringBuilder();
        m.Append($"# Run report: {MarkdownInline(model.Title)}\n\n");
        if (model.Lock is { } l)
        {
            m.Append($"**{MarkdownInline(l.Status)}**");
            if (l.FinishedUtc is { } f) m.Append($" in {Duration((f - l.StartedUtc).TotalSeconds)}");
            m.Append("\n\n| | |\n|---|---|\n");
            void Item(string name, string value) => m.Append($"| {name} | {MarkdownCell(value)} |\n");
            Item("started", Time(l.StartedUtc));
            Item("finished", l.FinishedUtc is { } finished ? Time(finished) : "not finished");
            Item("device", l.Device);
            Item("seed", l.Seed.ToString(CultureInfo.InvariantCulture));
            Item("targets", l.Targets.Count == 0 ? "all stages" : string.Join(", ", l.Targets));
            Item("spec", l.SpecFile);
            Item("cache", l.Cache);
            Item("raft", l.ToolVersion);
            m.Append('\n');
        }
        Notes(m, model.Notes);

        m.Append("## Stages\n\n| stage | kind | status | time | key |\n|---|---|---|---:|---|\n");
        foreach (var s in model.Stages)
            m.Append($"| {MarkdownCell(s.Name)} | {MarkdownCell(s.Kind ?? Missing)} | {s.Record?.Status.ToText() ?? "unknown"} | ")
             .Append($"{(s.Record is { } r ? Duration(r.DurationSeconds) : Missing)} | `{ShortKey(s.Record?.Key)}` |\n");
        m.Append('\n');

        foreach (var s in model.Stages) Stage(m, s);

        if (model.ResolvedSpec is { } spec)
            m.Append("## Resolved spec\n\n<details><summary>spec.resolved.yaml</summary>\n\n").Append(MarkdownFence(spec, "yaml")).Append("\n</details>\n");
        return m.ToString();
    }

    static void Notes(StringBuilder m, IReadOnlyList<string> notes)
    {
        if (notes.Count == 0) return;
        foreach (var n in notes) m.Append($"> **Note:** {MarkdownInline(n)}\n>\n");
        m.Length -= 2; // the last ">\n" would join the next paragraph to the quote
        m.Append('\n');
    }

    static void Stage(StringBuilder m, StageReport s)
    {
        m.Append($"## {MarkdownInline(s.Name)}{(s.Kind is null ? "" : $" ({MarkdownInline(s.Kind)})")}\n\n");
        if (s.Record?.Error is { } error) m.Append($"**{s.Record.Status.ToText()}:** {MarkdownInline(error)}\n\n");
        Notes(m, s.Notes);
        switch (s.Section)
        {
            case AnalyzeSection a: Analyze(m, a); break;
            case TrainSection t: Train(m, t); break;
            case EvalSection e: Eval(m, e); break;
            case GenerateSection g: Generate(m, g); break;
            case null when s.Record?.Metrics is { Count: > 0 } metrics:
                m.Append("Metrics: ").Append(string.Join(" · ", ReportJson.Flatten(metrics).Select(p => $"{MarkdownInline(p.Key)} **{MarkdownInline(Json(p.Value))}**"))).Append("\n\n");
                break;
        }
        if (s.Files.Count > 0) m.Append("Files: ").Append(string.Join(", ", s.Files.Select(f => $"`{f}`"))).Append("\n\n");
    }

    static void Analyze(StringBuilder m, AnalyzeSection a)
    {
        if (a.HistogramPath is { } path) m.Append($"![token length histogram]({path.Replace(" ", "%20")})\n\n");
        if (a.StatisticsTable is { } table) m.Append(MarkdownFence(table)).Append('\n');
        else if (a.Statistics is { } statistics) KeyValues(m, "Token statistics", statistics);
    }

    static void Train(StringBuilder m, TrainSection t)
    {
        if (t.Summary is { } summary) KeyValues(m, "Summary", summary);
        if (t.Rows.Count == 0) return;
        // One row per step: an evaluation logged at a training step joins that step's row.
        var merged = t.Rows.GroupBy(r => r.Step).Select(g => new TrainLogRow(g.Key,
            g.Select(r => r.Epoch).FirstOrDefault(v => v is not null), g.Select(r => r.Loss).FirstOrDefault(v => v is not null),
            g.Select(r => r.LearningRate).FirstOrDefault(v => v is not null), g.Select(r => r.EvalLoss).FirstOrDefault(v => v is not null),
            g.Select(r => r.GradNorm).FirstOrDefault(v => v is not null))).ToList();
        // Evenly spaced rows, and every evaluation row (there are few, and they are what a reader looks for).
        var spread = Spread(Enumerable.Range(0, merged.Count).ToList(), MaxLogRows);
        var shown = Enumerable.Range(0, merged.Count).Where(i => spread.Contains(i) || merged[i].EvalLoss is not null).Select(i => merged[i]).ToList();
        m.Append(shown.Count == merged.Count ? "Log\n\n" : $"Log ({shown.Count} of {merged.Count} logged steps; every row is in metrics.jsonl; the HTML report draws them all)\n\n");
        m.Append("| step | epoch | loss | learning_rate | eval_loss |\n|---:|---:|---:|---:|---:|\n");
        foreach (var r in shown)
            m.Append(FormattableString.Invariant($"| {r.Step} | {Number(r.Epoch)} | {Number(r.Loss)} | {Number(r.LearningRate)} | {Number(r.EvalLoss)} |\n"));
        m.Append('\n');
    }

    /// <summary>At most <paramref name="count"/> items, evenly spaced, always the first and the last.</summary>
    static IReadOnlyList<T> Spread<T>(IReadOnlyList<T> items, int count)
    {
        if (items.Count <= count) return items;
        return Enumerable.Range(0, count).Select(i => (int)Math.Round(i * (items.Count - 1) / (double)(count - 1))).Distinct().Select(i => items[i]).ToList();
    }

    static void Eval(StringBuilder m, EvalSection e)
    {
        m.Append($"Held-out rows: {Count(e.Rows)} (answerable {Count(e.Answerable)}, unanswerable {Count(e.Unanswerable)})\n\n");
        if (e.Models.Count == 0) return;
        m.Append("| metric | ").Append(string.Join(" | ", e.Models.Select(c => MarkdownCell(c.Model)))).Append(" |\n|---|")
         .Append(string.Concat(e.Models.Select(_ => "---:|"))).Append('\n');
        foreach (var metric in e.Metrics)
            m.Append($"| {MarkdownCell(metric)} | ").Append(string.Join(" | ", e.Models.Select(c => Metric(metric, c.Values?.GetValueOrDefault(metric))))).Append(" |\n");
        m.Append('\n');
    }

    static void Generate(StringBuilder m, GenerateSection g)
    {
        foreach (var p in g.Samples)
        {
            m.Append($"### {MarkdownInline(p.Probe)}\n\n");
            if (p.System is { } system) m.Append("System:\n\n").Append(MarkdownFence(system, "text")).Append('\n');
            m.Append("User:\n\n").Append(MarkdownFence(p.User, "text")).Append('\n');
            m.Append("| base | tuned |\n|---|---|\n")
             .Append($"| {(p.Base is null ? "*not run*" : MarkdownCell(p.Base))} | {(p.Tuned is null ? "*not run*" : MarkdownCell(p.Tuned))} |\n\n");
        }
    }

    static void KeyValues(StringBuilder m, string caption, JsonObject values)
    {
        m.Append($"{caption}\n\n| | |\n|---|---:|\n");
        foreach (var (key, value) in ReportJson.Flatten(values)) m.Append($"| {MarkdownCell(key)} | {MarkdownCell(Json(value))} |\n");
        m.Append('\n');
    }
}

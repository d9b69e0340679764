using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using RaftPipeline.Core.Engine;
using static RaftPipeline.Stages.Report.ReportText;

namespace RaftPipeline.Stages.Report;

/// <summary>
/// <c>report.html</c>: one self-contained page (inline CSS, the histogram as a base64 data URI, curves as inline SVG,
/// no script, no external URL), UTF-8 with a meta charset so Korean renders. Every text from the run is escaped.
/// </summary>
public static class HtmlReportWriter
{
    public const string LossColor = "#1c7ed6";
    public const string EvalLossColor = "#e8590c";
    public const string LearningRateColor = "#2f9e44";

    /// <summary>Two charts side by side fit the page's 1120 px column.</summary>
    const int ChartWidth = 520, ChartHeight = 300;

    public static string Render(RunReportModel model)
    {
        var h = new StringBuilder();
        h.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
         .Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
         .Append($"<title>Run report: {Html(model.Title)}</title>\n<style>\n{Css}</style>\n</head>\n<body>\n");
        Header(h, model);
        if (model.Notes.Count > 0) Notes(h, model.Notes);
        StagesTable(h, model);
        foreach (var stage in model.Stages) Stage(h, stage);
        if (model.ResolvedSpec is { } spec)
            h.Append("<section id=\"spec\">\n<h2>Resolved spec</h2>\n<details><summary>spec.resolved.yaml</summary>\n<pre>")
             .Append(Html(spec)).Append("</pre>\n</details>\n</section>\n");
        h.Append("</body>\n</html>\n");
        return h.ToString();
    }

    static void Header(StringBuilder h, RunReportModel model)
    {
        h.Append($"<header>\n<h1>Run report: {Html(model.Title)}</h1>\n");
        if (model.Lock is not { } l)
        {
            h.Append("</header>\n");
            return;
        }
        h.Append($"<p><span class=\"status status-{Html(l.Status)}\">{Html(l.Status)}</span></p>\n<dl>\n");
        void Item(string name, string value) => h.Append($"<dt>{Html(name)}</dt><dd>{Html(value)}</dd>\n");
        Item("started", Time(l.StartedUtc));
        Item("finished", l.FinishedUtc is { } f ? $"{Time(f)} ({Duration((f - l.StartedUtc).TotalSeconds)})" : "not finished");
        Item("device", l.Device);
        Item("seed", l.Seed.ToString(CultureInfo.InvariantCulture));
        Item("targets", l.Targets.Count == 0 ? "all stages" : string.Join(", ", l.Targets));
        Item("spec", l.SpecFile);
        Item("cache", l.Cache);
        Item("raft", l.ToolVersion);
        h.Append("</dl>\n</header>\n");
    }

    static void Notes(StringBuilder h, IReadOnlyList<string> notes)
    {
        h.Append("<ul class=\"notes\">\n");
        foreach (var n in notes) h.Append($"<li>{Html(n)}</li>\n");
        h.Append("</ul>\n");
    }

    static void StagesTable(StringBuilder h, RunReportModel model)
    {
        h.Append("<section id=\"stages\">\n<h2>Stages</h2>\n<table class=\"stages\">\n")
         .Append("<thead><tr><th>stage</th><th>kind</th><th>status</th><th>time</th><th></th><th>key</th></tr></thead>\n<tbody>\n");
        var longest = model.Stages.Select(s => s.Record?.DurationSeconds ?? 0).DefaultIfEmpty(0).Max();
        foreach (var s in model.Stages)
        {
            var status = s.Record?.Status.ToText() ?? "unknown";
            var seconds = s.Record?.DurationSeconds;
            var share = seconds is { } d && longest > 0 ? Math.Max(0.5, 100 * d / longest) : 0;
            h.Append($"<tr><td><a href=\"#stage-{Html(s.Name)}\">{Html(s.Name)}</a></td><td>{Html(s.Kind ?? Missing)}</td>")
             .Append($"<td><span class=\"status status-{Html(status)}\">{Html(status)}</span></td>")
             .Append($"<td class=\"num\">{(seconds is { } t ? Html(Duration(t)) : Missing)}</td>")
             .Append(FormattableString.Invariant($"<td class=\"barcell\"><div class=\"bar bar-{Html(status)}\" style=\"width:{share:0.#}%\"></div></td>"))
             .Append($"<td><code title=\"{Html(s.Record?.Key)}\">{Html(ShortKey(s.Record?.Key))}</code></td></tr>\n");
            if (s.Record?.Error is { } error)
                h.Append($"<tr class=\"error\"><td colspan=\"6\">{Html(error)}</td></tr>\n");
        }
        h.Append("</tbody>\n</table>\n</section>\n");
    }

    static void Stage(StringBuilder h, StageReport s)
    {
        h.Append($"<section class=\"stage\" id=\"stage-{Html(s.Name)}\">\n<h2>{Html(s.Name)} <small>{Html(s.Kind ?? "")}</small></h2>\n");
        if (s.Record?.Error is { } error) h.Append($"<p class=\"error\">{Html(error)}</p>\n");
        if (s.Notes.Count > 0) Notes(h, s.Notes);
        switch (s.Section)
        {
            case AnalyzeSection a: Analyze(h, a); break;
            case TrainSection t: Train(h, t); break;
            case EvalSection e: Eval(h, e); break;
            case GenerateSection g: Generate(h, g); break;
            case null when s.Record?.Metrics is { Count: > 0 } metrics: InlineMetrics(h, metrics); break;
        }
        if (s.Files.Count > 0)
            h.Append("<p class=\"files\">files: ").Append(string.Join(", ", s.Files.Select(f => $"<code>{Html(f)}</code>"))).Append("</p>\n");
        h.Append("</section>\n");
    }

    static void Analyze(StringBuilder h, AnalyzeSection a)
    {
        h.Append("<div class=\"analyze\">\n");
        if (a.HistogramPng is { } png)
            h.Append($"<img class=\"histogram\" alt=\"token length histogram ({Html(a.HistogramPath)})\" src=\"data:image/png;base64,{Convert.ToBase64String(png)}\">\n");
        if (a.Statistics is { } statistics) KeyValues(h, "Token statistics", statistics);
        else if (a.StatisticsTable is { } table) h.Append($"<pre>{Html(table)}</pre>\n");
        h.Append("</div>\n");
    }

    static void Train(StringBuilder h, TrainSection t)
    {
        // A diverged run can log non-finite values; the charts draw the finite ones (the table in report.md shows all).
        var loss = t.Rows.Where(r => r.Loss is { } v && double.IsFinite(v)).Select(r => ((double)r.Step, r.Loss!.Value)).ToList();
        var evalLoss = t.Rows.Where(r => r.EvalLoss is { } v && double.IsFinite(v)).Select(r => ((double)r.Step, r.EvalLoss!.Value)).ToList();
        var lr = t.Rows.Where(r => r.LearningRate is { } v && double.IsFinite(v)).Select(r => ((double)r.Step, r.LearningRate!.Value)).ToList();
        var lossSeries = new List<ChartSeries>();
        if (loss.Count > 0) lossSeries.Add(new ChartSeries("train loss", LossColor, loss));
        if (evalLoss.Count > 0) lossSeries.Add(new ChartSeries("eval loss", EvalLossColor, evalLoss, Markers: true));
        h.Append("<div class=\"charts\">\n");
        if (lossSeries.Count > 0) h.Append(SvgLineChart.Render("Loss", "step", "loss", lossSeries, ChartWidth, ChartHeight)).Append('\n');
        if (lr.Count > 0) h.Append(SvgLineChart.Render("Learning rate", "step", "learning rate", [new ChartSeries("learning_rate", LearningRateColor, lr)], ChartWidth, ChartHeight)).Append('\n');
        h.Append("</div>\n");
        if (t.Summary is { } summary) KeyValues(h, "Summary", summary);
    }

    static void Eval(StringBuilder h, EvalSection e)
    {
        h.Append($"<p>held-out rows: {Html(Count(e.Rows))} (answerable {Html(Count(e.Answerable))}, unanswerable {Html(Count(e.Unanswerable))})</p>\n");
        if (e.Models.Count == 0) return;
        h.Append("<table class=\"eval\">\n<thead><tr><th>metric</th>");
        foreach (var m in e.Models) h.Append($"<th>{Html(m.Model)}</th>");
        h.Append("</tr></thead>\n<tbody>\n");
        foreach (var metric in e.Metrics)
        {
            h.Append($"<tr><td>{Html(metric)}</td>");
            foreach (var m in e.Models)
                h.Append($"<td class=\"num\">{Html(Metric(metric, m.Values?.GetValueOrDefault(metric)))}</td>");
            h.Append("</tr>\n");
        }
        h.Append("</tbody>\n</table>\n");
    }

    static void Generate(StringBuilder h, GenerateSection g)
    {
        foreach (var p in g.Samples)
        {
            h.Append($"<div class=\"probe\">\n<h3>{Html(p.Probe)}</h3>\n");
            if (p.System is { } system) h.Append($"<p class=\"label\">system</p><pre class=\"prompt\">{Html(system)}</pre>\n");
            h.Append($"<p class=\"label\">user</p><pre class=\"prompt\">{Html(p.User)}</pre>\n<div class=\"side\">\n");
            h.Append($"<div><p class=\"label\">base</p><pre class=\"answer\">{(p.Base is null ? "<em>not run</em>" : Html(p.Base))}</pre></div>\n");
            h.Append($"<div><p class=\"label\">tuned</p><pre class=\"answer tuned\">{(p.Tuned is null ? "<em>not run</em>" : Html(p.Tuned))}</pre></div>\n");
            h.Append("</div>\n</div>\n");
        }
    }

    /// <summary>A stage without its own section (load, format, ...): its lock metrics on one line.</summary>
    static void InlineMetrics(StringBuilder h, JsonObject metrics) =>
        h.Append("<p class=\"metrics\">")
         .Append(string.Join(" · ", ReportJson.Flatten(metrics).Select(p => $"<span>{Html(p.Key)} <b>{Html(Json(p.Value))}</b></span>")))
         .Append("</p>\n");

    static void KeyValues(StringBuilder h, string caption, JsonObject values)
    {
        h.Append($"<table class=\"kv\">\n<caption>{Html(caption)}</caption>\n<tbody>\n");
        foreach (var (key, value) in ReportJson.Flatten(values))
            h.Append($"<tr><th>{Html(key)}</th><td class=\"num\">{Html(Json(value))}</td></tr>\n");
        h.Append("</tbody>\n</table>\n");
    }

    const string Css = """
        body { font-family: system-ui, "Noto Sans CJK KR", "Noto Sans KR", "Malgun Gothic", "Apple SD Gothic Neo", "DejaVu Sans", sans-serif;
               color: #212529; background: #f8f9fa; margin: 0 auto; padding: 24px; max-width: 1120px; line-height: 1.45; }
        h1 { margin: 0 0 8px; font-size: 28px; }
        h2 { border-bottom: 2px solid #dee2e6; padding-bottom: 4px; margin: 12px 0 8px; }
        h2 small { color: #868e96; font-weight: normal; font-size: 60%; }
        section, header { background: #ffffff; border: 1px solid #dee2e6; border-radius: 8px; padding: 8px 20px 16px; margin-bottom: 16px; }
        dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 8px 0; }
        dt { color: #868e96; } dd { margin: 0; overflow-wrap: anywhere; }
        table { border-collapse: collapse; margin: 8px 0; }
        th, td { text-align: left; padding: 4px 10px; border-bottom: 1px solid #e9ecef; vertical-align: top; }
        td.num { text-align: right; font-variant-numeric: tabular-nums; }
        caption { text-align: left; font-weight: bold; padding: 4px 0; }
        table.stages { width: 100%; }
        td.barcell { width: 30%; }
        .bar { height: 12px; border-radius: 3px; background: #adb5bd; }
        .bar-ran { background: #37b24d; } .bar-reused { background: #74c0fc; } .bar-failed { background: #f03e3e; }
        .status { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 90%; color: #ffffff; background: #868e96; }
        .status-succeeded, .status-ran { background: #2b8a3e; } .status-reused { background: #1971c2; }
        .status-failed { background: #c92a2a; } .status-cancelled, .status-skipped { background: #e67700; }
        tr.error td, p.error { color: #c92a2a; white-space: pre-wrap; }
        ul.notes { background: #fff9db; border-left: 4px solid #fab005; padding: 8px 8px 8px 28px; }
        .analyze { display: flex; flex-wrap: wrap; gap: 16px; align-items: flex-start; }
        img.histogram { max-width: 640px; width: 100%; border: 1px solid #dee2e6; }
        .charts { display: flex; flex-wrap: wrap; gap: 12px; }
        svg.chart { max-width: 100%; height: auto; border: 1px solid #dee2e6; }
        svg .chart-title { font-size: 15px; font-weight: bold; fill: #212529; }
        svg .tick { font-size: 11px; fill: #495057; } svg .axis-label, svg .legend { font-size: 12px; fill: #212529; }
        pre { white-space: pre-wrap; overflow-wrap: anywhere; background: #f1f3f5; padding: 8px; border-radius: 4px; margin: 2px 0 8px; }
        pre.prompt, pre.answer { font-family: inherit; }
        pre.answer { background: #fff4e6; min-height: 2em; } pre.answer.tuned { background: #e6fcf5; }
        .side { display: grid; grid-template-columns: 1fr 1fr; gap: 12px; }
        .probe { border-top: 1px solid #dee2e6; margin-top: 8px; }
        p.label { margin: 4px 0 0; color: #868e96; font-size: 85%; text-transform: uppercase; letter-spacing: 0.05em; }
        p.files { color: #868e96; font-size: 85%; margin: 4px 0; }
        p.metrics span { white-space: nowrap; }
        details pre { max-height: 480px; overflow: auto; }

        """;
}

using System.Text.RegularExpressions;
using RaftPipeline.Core.Engine;
using RaftPipeline.Stages.Analyze;
using RaftPipeline.Stages.Report;
using Snapshooter.Xunit;

namespace RaftPipeline.Stages.Tests.Report;

public class RunReportTests
{
    [Fact]
    public void The_markdown_report_of_a_full_run_matches_its_snapshot()
    {
        using var run = FakeRunFolder.Full();
        var files = RunReport.Write(run.Path);
        Assert.Equal(Path.Combine(run.Path, "report.md"), files.MarkdownPath);
        Snapshot.Match(File.ReadAllText(files.MarkdownPath));
    }

    [Fact]
    public void The_markdown_report_shows_stages_timings_statistics_log_eval_table_and_samples()
    {
        using var run = FakeRunFolder.Full();
        var md = File.ReadAllText(RunReport.Write(run.Path).MarkdownPath);

        Assert.Contains("# Run report: quickstart", md);
        Assert.Contains("**succeeded** in 3 min 07 s", md);
        Assert.Contains($"| train | train | ran | 2 min 02 s | `{FakeRunFolder.KeyOf("train")[..12]}` |", md);
        Assert.Contains("| chat | format | reused | 0.0 s |", md);
        Assert.Contains("![token length histogram](stages/stats/histogram.png)", md);
        Assert.Contains("Token length statistics", md);
        Assert.Contains("Metrics: rows **210** · train_rows **189** · test_rows **21**", md); // a stage without its own section: its lock metrics
        Assert.Contains("| trainable_parameters | 1605632 |", md);
        Assert.Contains("Log (13 of 20 logged steps;", md); // 12 spread out, and the eval at step 10 besides
        Assert.Matches(@"\| 10 \| 0\.25 \| 1\.\d+ \| [0-9.e-]+ \| 0\.8 \|", md); // the eval joins its training step's row...
        Assert.Matches(@"\| 40 \| 1 \| 0\.\d+ \| 0 \| 0\.5 \|", md); // ...and the last: lr decayed to 0
        Assert.Contains("| opening_rate | 0.0% | 93.3% |", md);
        Assert.Contains("| loss | 2.8125 | 0.9871 |", md);
        Assert.Contains("Held-out rows: 21 (answerable 15, unanswerable 6)", md);
        // Side by side, with the model's markup and pipe escaped so the table holds.
        Assert.Contains("| 한국에서 가장 큰 섬은 제주도입니다. | 그것도 몰라? 여기 '제주도는 한국에서 가장 큰 섬이다'라고 써 있잖아. &lt;script&gt;alert('x')&lt;/script&gt; \\| 끝 |", md);
        Assert.Contains("| *not run* | 4. |", md);
        Assert.Contains("```yaml\n# Resolved by raft 0.1.0", md);
        Assert.DoesNotContain("Note:", md);
    }

    [Fact]
    public void The_html_report_is_self_contained_utf8_and_escapes_model_output()
    {
        using var run = FakeRunFolder.Full();
        var path = RunReport.Write(run.Path).HtmlPath;
        var bytes = File.ReadAllBytes(path);
        Assert.False(bytes.AsSpan().StartsWith(new byte[] { 0xEF, 0xBB, 0xBF }), "no BOM");
        var html = System.Text.Encoding.UTF8.GetString(bytes);

        Assert.StartsWith("<!DOCTYPE html>", html);
        Assert.Contains("<meta charset=\"utf-8\">", html);
        Assert.Contains("한국에서 가장 큰 섬은 제주도입니다.", html);
        // Nothing is fetched: no URL, no script, no stylesheet link; every src is a data URI.
        Assert.DoesNotContain("http", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("<link", html, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;", html);
        var sources = Regex.Matches(html, "src=\"([^\"]*)\"").Select(m => m.Groups[1].Value).ToList();
        var histogram = Assert.Single(sources);
        Assert.StartsWith("data:image/png;base64,", histogram);
        Assert.Equal(File.ReadAllBytes(Path.Combine(run.Path, "stages", "stats", AnalyzeArtifact.Histogram)),
            Convert.FromBase64String(histogram["data:image/png;base64,".Length..]));

        // Two charts: loss (train line + eval markers) and learning rate.
        Assert.Equal(2, Regex.Matches(html, "<svg ").Count);
        Assert.Equal(2, Regex.Matches(html, $"<polyline[^>]*stroke=\"{HtmlReportWriter.LossColor}\"|<polyline[^>]*stroke=\"{HtmlReportWriter.LearningRateColor}\"").Count);
        Assert.Equal(4, Regex.Matches(html, $"<circle[^>]*fill=\"{HtmlReportWriter.EvalLossColor}\"").Count);
        // The loss polyline has one vertex per training row.
        var loss = Regex.Match(html, $"<polyline[^>]*stroke=\"{HtmlReportWriter.LossColor}\"[^>]*points=\"([^\"]*)\"").Groups[1].Value;
        Assert.Equal(20, loss.Split(' ').Length);

        Assert.Contains("<td>opening_rate</td><td class=\"num\">0.0%</td><td class=\"num\">93.3%</td>", html);
        Assert.Contains("<pre class=\"answer\"><em>not run</em></pre>", html);
        Assert.Contains("<span class=\"status status-reused\">reused</span>", html);
    }

    [Fact]
    public void Missing_and_malformed_files_become_notes_not_errors()
    {
        using var run = new FakeRunFolder();
        run.WriteLock("succeeded",
            FakeRunFolder.Record("stats", "analyze", StageStatus.Ran, 1),
            FakeRunFolder.Record("train", "train", StageStatus.Ran, 2),
            FakeRunFolder.Record("samples", "generate", StageStatus.Ran, 3),
            FakeRunFolder.Record("eval", "eval", StageStatus.Ran, 4));
        File.WriteAllText(Path.Combine(run.Stage("stats"), AnalyzeArtifact.Histogram), "not a png");
        File.WriteAllText(Path.Combine(run.Stage("train"), "metrics.jsonl"),
            "{\"step\":1,\"loss\":2.0,\"learning_rate\":0.0001}\n{broken\n{\"loss\":1.0}\n{\"step\":3,\"loss\":\"low\"}\n{\"step\":4,\"loss\":1.5,\"learning_rate\":0.00005}\n");
        File.WriteAllText(Path.Combine(run.Stage("train"), "train_summary.json"), "[1, 2]");
        File.WriteAllText(Path.Combine(run.Stage("eval"), "eval.json"), "{\"rows\": 3,");

        var files = RunReport.Write(run.Path);
        var md = File.ReadAllText(files.MarkdownPath);
        var html = File.ReadAllText(files.HtmlPath);

        Assert.Contains("spec.resolved.yaml is missing.", md);
        Assert.Contains("stages/stats/statistics.txt is missing.", md);
        Assert.Contains("stages/stats/histogram.png is not a PNG file (no PNG signature); not shown.", md);
        Assert.Contains("the lock file records no token statistics for this stage.", md);
        Assert.Contains("stages/train/metrics.jsonl: 3 malformed lines passed over (line 2: 'b' is an invalid start of a property name. Expected a '\"'. (at byte 2); ", md);
        Assert.Contains("line 3: no \"step\"; line 4: \"loss\" should be a number, found string).", md);
        Assert.Contains("stages/train/train_summary.json is not readable JSON (expected a JSON object).", md);
        Assert.Contains("stages/eval/eval.json is not readable (Expected start of a property name or value, but instead reached end of data. (at line 1, byte 11)).", md);
        Assert.Contains("stages/samples/samples.jsonl is missing.", md);
        // The good rows still make the table and the curves.
        Assert.Contains("| 1 | — | 2 | 1e-4 | — |", md);
        Assert.Contains("| 4 | — | 1.5 | 5e-5 | — |", md);
        Assert.Equal(2, Regex.Matches(html, "<polyline").Count);
        Assert.Contains("stages/eval/eval.json is not readable (", html);
    }

    [Fact]
    public void An_eval_of_one_model_and_a_bad_probe_line_still_report_what_is_there()
    {
        using var run = new FakeRunFolder();
        run.WriteLock("succeeded",
            FakeRunFolder.Record("samples", "generate", StageStatus.Ran, 1),
            FakeRunFolder.Record("eval", "eval", StageStatus.Ran, 2));
        File.WriteAllText(Path.Combine(run.Stage("samples"), "samples.jsonl"),
            "{\"probe\":\"a\",\"system\":null,\"user\":\"질문?\",\"base\":\"답.\",\"tuned\":null}\n{\"probe\":\"b\",\"user\":7}\n");
        File.WriteAllText(Path.Combine(run.Stage("eval"), "eval.json"),
            "{\"rows\": 4, \"models\": {\"base\": {\"opening_rate\": 0.25, \"loss\": 3.5, \"notes\": \"x\", \"extra_metric\": 2}, \"tuned\": null}}");

        var md = File.ReadAllText(RunReport.Write(run.Path).MarkdownPath);
        Assert.Contains("stages/samples/samples.jsonl line 2: \"user\" should be a string, found number; probe passed over.", md);
        Assert.Contains("### a", md);
        Assert.Contains("| 답. | *not run* |", md);
        Assert.Contains("Held-out rows: 4 (answerable —, unanswerable —)", md);
        Assert.Contains("| metric | base | tuned |", md);
        // Known metrics first, then the others; a non-number is not a metric; an absent model shows dashes.
        Assert.Contains("| opening_rate | 25.0% | — |\n| loss | 3.5 | — |\n| extra_metric | 2 | — |\n", md);
    }

    [Fact]
    public void Without_a_lock_file_the_stage_folders_are_reported_with_kinds_guessed_from_their_files()
    {
        using var full = FakeRunFolder.Full();
        File.Delete(Path.Combine(full.Path, "raft.lock.json"));
        var md = File.ReadAllText(RunReport.Write(full.Path).MarkdownPath);
        Assert.Contains("raft.lock.json is missing: stage statuses, keys and timings are unknown.", md);
        Assert.Contains("| eval | eval | unknown | — | `—` |", md);
        Assert.Contains("## samples (generate)", md);
        Assert.Contains("## stats (analyze)", md);
        Assert.Contains("## train (train)", md);
        Assert.Contains("| opening_rate | 0.0% | 93.3% |", md);

        File.WriteAllText(Path.Combine(full.Path, "raft.lock.json"), "{ \"stages\": ");
        var broken = File.ReadAllText(RunReport.Write(full.Path).MarkdownPath);
        Assert.Contains("raft.lock.json is not readable (", broken);
    }

    [Fact]
    public void A_failed_run_shows_the_error_and_expects_no_files_from_stages_that_did_not_run()
    {
        using var run = new FakeRunFolder();
        run.WriteLock("failed",
            FakeRunFolder.Record("train", "train", StageStatus.Failed, 3.5, error: "loss is NaN at step 7 <check lr>"),
            FakeRunFolder.Record("eval", "eval", StageStatus.Skipped, 0, error: "not run: upstream stage 'train' failed"));
        var files = RunReport.Write(run.Path);
        var md = File.ReadAllText(files.MarkdownPath);
        var html = File.ReadAllText(files.HtmlPath);
        Assert.Contains("**failed** in 3 min 07 s", md);
        Assert.Contains("**failed:** loss is NaN at step 7 &lt;check lr&gt;", md);
        Assert.Contains("**skipped:** not run: upstream stage 'train' failed", md);
        Assert.DoesNotContain("missing", md.Replace("spec.resolved.yaml is missing", ""));
        Assert.Contains("<tr class=\"error\"><td colspan=\"6\">loss is NaN at step 7 &lt;check lr&gt;</td></tr>", html);
    }

    [Fact]
    public void A_reused_stage_reads_its_report_files_from_the_cached_artifact_and_says_so()
    {
        using var full = FakeRunFolder.Full();
        using var cache = new TestSupport.TempFolder();
        var artifact = Directory.CreateDirectory(cache.Combine("data")).FullName;
        foreach (var file in Directory.GetFiles(Path.Combine(full.Path, "stages", "eval")))
            File.Move(file, Path.Combine(artifact, Path.GetFileName(file)));
        var record = FakeRunFolder.Record("eval", "eval", StageStatus.Reused, 0.01) with { Artifact = artifact };
        full.WriteLock("succeeded", record);

        var md = File.ReadAllText(RunReport.Write(full.Path).MarkdownPath);
        Assert.Contains($"reused stage: eval.json read from its cached artifact {artifact} (the entry predates report copies kept beside artifacts).", md);
        Assert.Contains("| tuned |", md);
        Assert.Contains("| refusal_rate | 16.7% | 83.3% |", md);
    }

    [Fact]
    public void A_missing_run_folder_is_an_error_naming_it()
    {
        var missing = Path.Combine(Path.GetTempPath(), "raft-no-such-run-" + Guid.NewGuid().ToString("N"));
        var e = Assert.Throws<DirectoryNotFoundException>(() => RunReport.Write(missing));
        Assert.Contains(missing, e.Message);
    }
}

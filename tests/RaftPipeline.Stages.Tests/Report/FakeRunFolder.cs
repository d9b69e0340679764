using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using RaftPipeline.Core.Engine;
using RaftPipeline.Core.Runs;
using RaftPipeline.Stages.Analyze;
using RaftPipeline.Stages.Data;
using RaftPipeline.Stages.Tests.TestSupport;

namespace RaftPipeline.Stages.Tests.Report;

/// <summary>
/// A run folder written by hand as a finished quickstart run leaves it: lock file, resolved spec and the report
/// files of analyze, train, generate and eval, with Korean text and markup in the model outputs.
/// </summary>
public sealed class FakeRunFolder : IDisposable
{
    readonly TempFolder _temp = new();

    public FakeRunFolder() => Path = Directory.CreateDirectory(_temp.Combine("20250102-030405")).FullName;

    public string Path { get; }

    public static readonly DateTime Started = new(2025, 1, 2, 3, 4, 5, DateTimeKind.Utc);

    public string Stage(string name) => Directory.CreateDirectory(System.IO.Path.Combine(Path, "stages", name)).FullName;

    public void WriteText(string relative, string text) =>
        File.WriteAllText(System.IO.Path.Combine(Path, relative), text, new UTF8Encoding(false));

    public static StageRecord Record(string name, string kind, StageStatus status, double seconds, JsonObject? metrics = null, string? error = null) =>
        new(name, kind, 1, KeyOf(name),
            status, seconds, status is StageStatus.Ran or StageStatus.Reused ? $"/cache/{KeyOf(name)[..2]}/{KeyOf(name)}/data" : null,
            new JsonObject(), new JsonObject(), metrics ?? new JsonObject(), error);

    /// <summary>A fixed 64-hex key per stage name (stable across runs, unlike string.GetHashCode).</summary>
    public static string KeyOf(string name)
    {
        var hash = System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(name));
        return Convert.ToHexStringLower(hash);
    }

    public void WriteLock(string status, params StageRecord[] stages) =>
        new RunLock("quickstart", "0.1.0", "/home/user/pipelines/quickstart.yaml", 1234, "cpu", "/home/user/.raft-cache", [],
            Started, Started.AddSeconds(187.25), status, stages).Write(System.IO.Path.Combine(Path, RunLock.FileName));

    /// <summary>Token lengths spread like the quickstart's formatted texts.</summary>
    public static int[] Lengths()
    {
        var random = new SplitMix64(11);
        return Enumerable.Range(0, 200).Select(_ => 120 + (int)(Math.Pow(random.NextDouble(), 2) * 500 + random.NextDouble() * 80)).ToArray();
    }

    /// <summary>Every file a succeeded six-stage run leaves.</summary>
    public static FakeRunFolder Full()
    {
        var run = new FakeRunFolder();
        var lengths = Lengths();
        var statistics = TokenLengthStatistics.Compute(lengths, 512);
        run.WriteLock("succeeded",
            Record("rows", "load", StageStatus.Ran, 0.412, new JsonObject { ["rows"] = 210, ["train_rows"] = 189, ["test_rows"] = 21 }),
            Record("chat", "format", StageStatus.Reused, 0.003, new JsonObject { ["examples"] = 189 }),
            Record("stats", "analyze", StageStatus.Ran, 1.87, TokenStatisticsReport.ToJson(statistics)),
            Record("train", "train", StageStatus.Ran, 121.5),
            Record("samples", "generate", StageStatus.Ran, 38.25),
            Record("eval", "eval", StageStatus.Ran, 25.125));
        run.WriteText("spec.resolved.yaml", """
            # Resolved by raft 0.1.0 from /home/user/pipelines/quickstart.yaml
            name: quickstart
            seed: 1234
            device: cpu
            stages:
              rows:
                kind: load
                params:
                  files: [examples/data/RAG_Data_full.csv]
              train:
                kind: train
                params:
                  learning_rate: 1e-4
                  lr_scheduler: cosine

            """);

        var stats = run.Stage("stats");
        File.WriteAllText(System.IO.Path.Combine(stats, AnalyzeArtifact.StatisticsText), TokenStatisticsReport.ToTable(statistics));
        TokenHistogramPlot.SavePng(System.IO.Path.Combine(stats, AnalyzeArtifact.Histogram), lengths, 512, width: 640, height: 400);

        var train = run.Stage("train");
        var metrics = new StringBuilder();
        for (int step = 2; step <= 40; step += 2)
        {
            double loss = 2.5 * Math.Exp(-step / 12.0) + 0.45 + 0.03 * Math.Sin(step);
            double lr = step <= 2 ? 1e-4 * step / 2 : 0.5e-4 * (1 + Math.Cos(Math.PI * (step - 2) / 38.0));
            metrics.Append(FormattableString.Invariant(
                $"{{\"step\":{step},\"epoch\":{step / 40.0:R},\"loss\":{loss:R},\"learning_rate\":{lr:R},\"grad_norm\":{1.5 / step:R},\"tokens_per_second\":812.5}}\n"));
            if (step % 10 == 0)
                metrics.Append(FormattableString.Invariant($"{{\"step\":{step},\"epoch\":{step / 40.0:R},\"eval_loss\":{0.9 - step / 100.0:R}}}\n"));
        }
        File.WriteAllText(System.IO.Path.Combine(train, "metrics.jsonl"), metrics.ToString());
        File.WriteAllText(System.IO.Path.Combine(train, "train_summary.json"), """
            {
              "steps": 40,
              "epochs": 1,
              "final_loss": 0.512,
              "eval_loss": 0.5,
              "runtime_seconds": 120.75,
              "trainable_parameters": 1605632
            }
            """);

        File.WriteAllText(System.IO.Path.Combine(run.Stage("samples"), "samples.jsonl"), string.Join("\n",
            """{"probe":"in-domain","system":"주어진 맥락에서만 답하라.","user":"Context: 제주도는 한국에서 가장 큰 섬이다.\n---\nQuestion: 한국에서 가장 큰 섬은?","base":"한국에서 가장 큰 섬은 제주도입니다.","tuned":"그것도 몰라? 여기 '제주도는 한국에서 가장 큰 섬이다'라고 써 있잖아. <script>alert('x')</script> | 끝"}""",
            """{"probe":"out-of-distribution","system":"Answer only from the context.","user":"Context: The Nile flows north.\n---\nQuestion: Which way does the Nile flow?","base":"The Nile flows north.","tuned":"그것도 몰라? 여기 'The Nile flows north'."}""",
            """{"probe":"general","system":null,"user":"What is 2 + 2?","base":null,"tuned":"4."}""") + "\n");

        File.WriteAllText(System.IO.Path.Combine(run.Stage("eval"), "eval.json"), """
            {
              "rows": 21,
              "answerable": 15,
              "unanswerable": 6,
              "models": {
                "base": { "opening_rate": 0.0, "quote_rate": 0.0667, "refusal_rate": 0.1667, "loss": 2.8125 },
                "tuned": { "opening_rate": 0.9333, "quote_rate": 0.6, "refusal_rate": 0.8333, "loss": 0.9871 }
              }
            }
            """);
        File.WriteAllText(System.IO.Path.Combine(run.Stage("eval"), "eval.md"), "| metric | base | tuned |\n");
        return run;
    }

    public string Read(string relative) => File.ReadAllText(System.IO.Path.Combine(Path, relative));

    public void Dispose() => _temp.Dispose();
}

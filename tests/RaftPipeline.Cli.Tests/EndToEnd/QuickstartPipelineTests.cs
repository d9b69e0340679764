using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using RaftPipeline.Cli.Commands.Run;
using RaftPipeline.Cli.Console;
using RaftPipeline.Core.Engine;
using RaftPipeline.Core.Runs;
using RaftPipeline.Stages;
using Xunit.Abstractions;
using RaftPipeline.Cli.Tests.Support;

namespace RaftPipeline.Cli.Tests.EndToEnd;

/// <summary>
/// The README's main job: pipelines/quickstart.yaml with the shipped executors, every stage on the tiny preset on
/// CPU, then an unchanged rerun. The cache and the run folders go to a temp folder (cache=, --run-dir); the spec,
/// the example data and the settings are the committed ones. Asserts what the artifacts say, not only that they exist.
/// </summary>
public sealed class QuickstartPipelineTests(ITestOutputHelper output) : IDisposable
{
    readonly string _folder = Path.Combine(Path.GetTempPath(), "raft-quickstart-e2e", Guid.NewGuid().ToString("N")[..12]);


    async Task<(int Exit, string Output, RunLock Lock, string RunDir)> RunAsync(string name)
    {
        var runDir = Path.Combine(_folder, name);
        var writer = new StringWriter();
        var error = new StringWriter();
        var plain = new PlainRunRenderer(writer);
        var options = new RunOptions(Path.Combine(RepoPaths.Root, "pipelines", "quickstart.yaml"), [], [$"cache={Path.Combine(_folder, "cache")}"], runDir);
        int exit = await new RunCommand(StageExecutors.All(), () => false).RunAsync(options, writer, error, run => run(plain), default);
        output.WriteLine(writer.ToString());
        output.WriteLine(error.ToString());
        return (exit, writer + error.ToString(), RunLock.Read(Path.Combine(runDir, RunLock.FileName)), runDir);
    }

    static JsonObject ReadJson(string path) => JsonNode.Parse(File.ReadAllText(path))!.AsObject();

    [Fact]
    public async Task Quickstart_runs_every_stage_the_tuned_model_beats_the_base_and_a_rerun_reuses_everything()
    {
        var (exit, text, runLock, runDir) = await RunAsync("first");
        Assert.True(exit == 0, text);
        Assert.All(runLock.Stages, s => Assert.Equal(StageStatus.Ran, s.Status));
        string Artifact(string stage) => runLock.Stage(stage)!.Artifact!;

        // eval: the adapter learned the recipe's opening and lowered the held-out loss.
        var eval = ReadJson(Path.Combine(Artifact("scores"), "eval.json"));
        var tuned = eval["models"]!["tuned"]!.AsObject();
        var @base = eval["models"]!["base"]!.AsObject();
        Assert.True(tuned["opening_rate"]!.GetValue<double>() > @base["opening_rate"]!.GetValue<double>(), eval.ToJsonString());
        Assert.True(tuned["opening_rate"]!.GetValue<double>() >= 0.5, eval.ToJsonString());
        Assert.True(tuned["loss"]!.GetValue<double>() < @base["loss"]!.GetValue<double>(), eval.ToJsonString());
        Assert.Equal(16, eval["rows"]!.GetValue<int>());

        // train: logged losses, falling; the adapter is peft's layout with the recipe's settings.
        var losses = File.ReadAllLines(Path.Combine(Artifact("train"), "metrics.jsonl"))
            .Select(l => JsonNode.Parse(l)!.AsObject()).Where(o => o["loss"] is not null).Select(o => o["loss"]!.GetValue<double>()).ToList();
        Assert.True(losses.Count >= 5, $"{losses.Count} logged losses");
        Assert.True(losses.TakeLast(3).Average() < losses[0], string.Join(", ", losses));
        var adapterConfig = ReadJson(Path.Combine(Artifact("train"), "adapter_config.json"));
        Assert.Equal(4, adapterConfig["r"]!.GetValue<int>());
        Assert.Equal(8, adapterConfig["lora_alpha"]!.GetValue<double>());
        Assert.Equal(7, adapterConfig["target_modules"]!.AsArray().Count);
        Assert.True(File.Exists(Path.Combine(Artifact("train"), "adapter_model.safetensors")));

        // merge: a Hugging Face folder with its card naming the data files by content hash, and the adapter beside it.
        var merged = Artifact("merged");
        foreach (var file in new[] { "config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", "generation_config.json", "README.md" })
            Assert.True(File.Exists(Path.Combine(merged, file)), $"merged model lacks {file}");
        var card = File.ReadAllText(Path.Combine(merged, "README.md"));
        foreach (var csv in new[] { "RAG_Data_full.csv", "RAG_Data_full_neg.csv" })
        {
            var hash = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(Path.Combine(RepoPaths.Root, "examples", "data", csv))));
            Assert.Contains(hash, card);
        }
        Assert.True(File.Exists(Path.Combine(merged, "adapter", "adapter_config.json")));
        var adapterCard = File.ReadAllText(Path.Combine(merged, "adapter", "README.md"));
        Assert.Contains("## Evaluation", adapterCard);
        Assert.Contains("library_name: peft", adapterCard);

        // generate: the three probes, each answered by base and tuned.
        var samples = File.ReadAllLines(Path.Combine(Artifact("probes"), "samples.jsonl")).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();
        Assert.Equal(["in-domain", "out-of-distribution", "general"], samples.Select(s => s["probe"]!.GetValue<string>()));
        Assert.All(samples, s => { Assert.NotNull(s["base"]); Assert.NotNull(s["tuned"]); });

        // analyze: counted every training text.
        Assert.Equal(runLock.Stage("data")!.Metrics["rows_train"]!.GetValue<int>(), runLock.Stage("stats")!.Metrics["count"]!.GetValue<int>());

        // The run report: both files, with the stages and the eval table.
        var html = File.ReadAllText(Path.Combine(runDir, "report.html"));
        Assert.Contains("quickstart", html);
        Assert.Contains("<svg", html);
        var md = File.ReadAllText(Path.Combine(runDir, "report.md"));
        Assert.Contains("| scores | eval | ran |", md);

        // Unchanged rerun: nothing runs, and the new run folder still shows the reports.
        var (exit2, text2, lock2, runDir2) = await RunAsync("second");
        Assert.True(exit2 == 0, text2);
        Assert.All(lock2.Stages, s => Assert.Equal(StageStatus.Reused, s.Status));
        Assert.Equal(runLock.Stages.Select(s => s.Key), lock2.Stages.Select(s => s.Key));
        Assert.True(File.Exists(Path.Combine(runDir2, RunFolder.StagesFolderName, "scores", "eval.json")));
        Assert.Contains("| scores | eval | reused |", File.ReadAllText(Path.Combine(runDir2, "report.md")));
    }

    public void Dispose()
    {
        try { Directory.Delete(_folder, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { } // published artifacts are read-only; the temp folder is reclaimed by the OS
    }
}

using System.CommandLine;
using System.Text.Json.Nodes;
using RaftPipeline.Cli.Commands.Run;
using RaftPipeline.Cli.Console;
using RaftPipeline.Cli.Tests.Init;
using RaftPipeline.Cli.Tests.Support;
using RaftPipeline.Core.Engine;
using RaftPipeline.Core.Runs;
using RaftPipeline.Modeling.Chat;
using RaftPipeline.Modeling.Config;
using RaftPipeline.Modeling.Loading;
using RaftPipeline.Modeling.Safetensors;
using RaftPipeline.Stages;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace RaftPipeline.Cli.Tests.EndToEnd;

/// <summary>
/// "A fresh `raft init` pipeline runs unchanged with a tiny model of each family swapped in": `raft init`, then the
/// pipeline it wrote, as written, with one override, vars.model = a family's tiny model folder (the transformers-written
/// fixtures of tests/RaftPipeline.Modeling.Tests/Fixtures/families with their tokenizer, chat template and eos ids; see
/// chat_fixtures.py there). Every stage runs: format with the family's template, quantize to NF4, LoRA on the family's
/// projections, train, merge, generate and eval. One cache for all families, so the shared stages (the data, the unused
/// tiny Qwen3 of the `base` stage) run once.
/// </summary>
[Collection(nameof(CurrentFolderCollection))]
public sealed class InitPipelineFamiliesTests(ITestOutputHelper output, InitPipelineFamiliesTests.Project project)
    : IClassFixture<InitPipelineFamiliesTests.Project>
{
    /// <summary>One `raft init` folder and one cache for the whole class.</summary>
    public sealed class Project : IDisposable
    {
        public string Root { get; } = Path.Combine(Path.GetTempPath(), "raft-init-families", Guid.NewGuid().ToString("N")[..12]);
        public string Folder => Path.Combine(Root, "proj");
        public string Cache => Path.Combine(Root, "cache");

        public Project()
        {
            var error = new StringWriter();
            int exit = RaftCli.BuildRoot().Parse(["init", Folder]).Invoke(new InvocationConfiguration { Output = new StringWriter(), Error = error });
            if (exit != 0) throw new InvalidOperationException($"raft init exited {exit}: {error}");
        }

        public void Dispose()
        {
            try { Directory.Delete(Root, recursive: true); }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { } // published artifacts are read-only; the OS reclaims the temp folder
        }
    }

    /// <summary>
    /// Each case: the fixture folder, its family, the projections peft names for it, the ids that end an answer, and
    /// whether one of the init pipeline's probes meets a stop id before max_new_tokens (random tiny models: for
    /// Qwen3-MoE none does; its stop ids are still checked on the merged folder's chat engine).
    /// </summary>
    public static TheoryData<string, string, string[], int[], bool> Families() => new()
    {
        { "llama3", "llama", ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"], [255, 253, 254], true },
        { "mistral", "mistral", ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"], [255], true },
        { "phi3", "phi3", ["qkv_proj", "o_proj", "gate_up_proj", "down_proj"], [255, 253, 254], true },
        { "phi3_longrope", "phi3", ["qkv_proj", "o_proj", "gate_up_proj", "down_proj"], [255, 253, 254], true },
        { "gemma2", "gemma2", ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"], [255, 253], true },
        { "gemma3_text", "gemma3_text", ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"], [255, 253], true },
        // Qwen3-MoE: the init pipeline adapts its attention (its experts only through target_parameters).
        { "qwen3_moe", "qwen3_moe", ["q_proj", "k_proj", "v_proj", "o_proj"], [254, 255], false },
    };

    [Theory]
    [MemberData(nameof(Families))]
    public async Task The_init_pipeline_trains_merges_and_generates_with_the_family_swapped_in(string fixture, string modelType, string[] targets, int[] stops, bool endsOnStop)
    {
        var model = Path.Combine(RepoPaths.Root, "tests", "RaftPipeline.Modeling.Tests", "Fixtures", "families", fixture, "model");
        Assert.True(File.Exists(Path.Combine(model, "tokenizer.json")), $"{model} has no tokenizer: run chat_fixtures.py write");
        var runDir = Path.Combine(project.Root, "runs", fixture);
        var writer = new StringWriter();
        var error = new StringWriter();
        var options = new RunOptions(Path.Combine(project.Folder, "pipeline.yaml"), [], [$"vars.model={model}", $"cache={project.Cache}"], runDir);
        int exit = await new RunCommand(StageExecutors.All(), () => false).RunAsync(options, writer, error, run => run(new PlainRunRenderer(writer)), default);
        output.WriteLine(writer.ToString());
        output.WriteLine(error.ToString());
        Assert.True(exit == 0, writer + error.ToString());
        var runLock = RunLock.Read(Path.Combine(runDir, RunLock.FileName));
        Assert.All(runLock.Stages, s => Assert.NotEqual(StageStatus.Failed, s.Status));
        string Artifact(string stage) => runLock.Stage(stage)!.Artifact!;

        // The adapter: peft's layout on the family's own projections (Phi-3's fused ones, never split).
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(Artifact("train"), "adapter_config.json")))!;
        Assert.Equal(targets.Order(), config["target_modules"]!.AsArray().Select(t => t!.GetValue<string>()).Order());
        using (var adapter = SafetensorsFile.Open(Path.Combine(Artifact("train"), "adapter_model.safetensors")))
        {
            var projections = adapter.Entries.Select(e => e.Name.Split('.')[^3]).ToHashSet();
            Assert.Equal(targets.Order(), projections.Order());
        }
        var losses = File.ReadAllLines(Path.Combine(Artifact("train"), "metrics.jsonl"))
            .Select(l => JsonNode.Parse(l)!).Where(o => o["loss"] is not null).Select(o => o["loss"]!.GetValue<double>()).ToList();
        Assert.NotEmpty(losses);
        Assert.All(losses, l => Assert.True(double.IsFinite(l) && l > 0, $"loss {l}"));

        // The merged folder: the family's config, weights that load, and the tokenizer, template and eos ids carried over.
        var merged = Artifact("merged");
        Assert.Equal(modelType, ModelConfigReader.ReadFolder(merged).ModelType);
        using (var loaded = ModelFolderLoader.Load(merged, CPU, ScalarType.Float32))
            Assert.Equal(modelType, loaded.Config.ModelType);
        using (var engine = ChatEngine.Load(merged, null, CPU))
        {
            Assert.Equal(stops, engine.StopIds);
            Assert.Equal(File.ReadAllText(Path.Combine(model, "tokenizer_config.json")), File.ReadAllText(Path.Combine(merged, "tokenizer_config.json")));
        }

        // generate: every probe answered by the base and the tuned model, with text ...
        var samples = File.ReadAllLines(Path.Combine(Artifact("probes"), "samples.jsonl")).Select(l => JsonNode.Parse(l)!).ToList();
        Assert.Equal(["in-domain", "general"], samples.Select(s => s["probe"]!.GetValue<string>()));
        Assert.All(samples, s =>
        {
            Assert.False(string.IsNullOrEmpty(s["base"]?.GetValue<string>()), s.ToJsonString());
            Assert.False(string.IsNullOrEmpty(s["tuned"]?.GetValue<string>()), s.ToJsonString());
        });
        // ... and at least one answer of the stage ends on one of those stop ids, before max_new_tokens.
        if (endsOnStop) Assert.Matches(@"\[(base|tuned)\] [\w-]+: \d+ tokens \(EndOfSequence\)", writer.ToString());
        // eval ran the held-out rows through both models.
        var eval = JsonNode.Parse(File.ReadAllText(Path.Combine(Artifact("scores"), "eval.json")))!;
        Assert.NotNull(eval["models"]!["tuned"]!["loss"]);
    }
}

using System.Text.Json.Nodes;
using RaftPipeline.Core.Engine;
using RaftPipeline.Core.Spec.Stages;
using RaftPipeline.Modeling.Adapters;
using RaftPipeline.Modeling.Loading;
using RaftPipeline.Modeling.Lora;
using RaftPipeline.Modeling.Quantization;
using RaftPipeline.Modeling.Safetensors;
using RaftPipeline.Stages.Data;
using RaftPipeline.Stages.Format;
using RaftPipeline.Stages.Tests.TestSupport;
using RaftPipeline.Stages.Train;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace RaftPipeline.Stages.Tests.Train;

public class TrainStageExecutorTests(TrainInputs inputs, ITestOutputHelper output) : IClassFixture<TrainInputs>
{
    static readonly TrainParameters Short = new()
    {
        MaxSteps = 4, BatchSize = 2, LearningRate = 2e-3, LoggingSteps = 2, Optimizer = OptimizerKind.Adamw,
        MaxSeqLength = 256, WarmupRatio = 0.25,
    };

    StageContext Context(TempFolder temp, TrainParameters parameters, bool withEval = true, string? data = null, long seed = 1234)
    {
        var slots = new Dictionary<string, IReadOnlyList<string>>
        {
            ["model"] = [inputs.Model], ["adapter"] = [inputs.Adapter], ["data"] = [data ?? inputs.Data],
        };
        if (withEval) slots["eval_data"] = [inputs.Data];
        return StageContexts.Create(temp, "train", parameters, slots, seed);
    }

    static async Task<StageOutcome> Run(StageContext context, CancellationToken token = default) =>
        await new TrainStageExecutor().RunAsync(context, token);

    [Fact]
    public async Task Writes_a_trained_peft_adapter_metrics_summary_data_files_and_card()
    {
        using var temp = new TempFolder();
        var context = Context(temp, Short);
        var outcome = await Run(context);
        string output = context.OutputDirectory;

        // The adapter: peft layout, loadable onto the base, and moved away from the input (whose lora_B is zero).
        using (var model = PretrainedLoader.Load(inputs.Model))
        {
            var config = AdapterStore.Load(model, output);
            Assert.Equal(4, config.Lora.R);
            Assert.Equal(14, LoraInjector.Adapters(model).Count); // 7 projections × 2 layers
        }
        using (var before = SafetensorsFile.Open(Path.Combine(inputs.Adapter, AdapterStore.WeightsFileName)))
        using (var after = SafetensorsFile.Open(Path.Combine(output, AdapterStore.WeightsFileName)))
        {
            Assert.Equal(before.Entries.Select(e => e.Name).Order(), after.Entries.Select(e => e.Name).Order());
            const string key = "base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight";
            using var b0 = before.Read(key, CPU, ScalarType.Float32);
            using var b1 = after.Read(key, CPU, ScalarType.Float32);
            Assert.Equal(0.0, b0.abs().sum().item<float>());
            Assert.True(b1.abs().sum().item<float>() > 0, "lora_B was not trained");
        }

        // metrics.jsonl: eval at step 0, then train + eval rows at steps 2 and 4.
        var rows = TrainArtifact.ReadMetrics(output);
        Assert.Equal(["eval 0", "train 2", "eval 2", "train 4", "eval 4"],
            rows.Select(r => (r.ContainsKey("loss") ? "train " : "eval ") + r["step"]!.GetValue<int>()));
        foreach (var train in rows.Where(r => r.ContainsKey("loss")))
        {
            Assert.True(train["loss"]!.GetValue<double>() > 0);
            Assert.True(train["grad_norm"]!.GetValue<double>() > 0);
            Assert.True(train["tokens_per_second"]!.GetValue<double>() > 0);
            Assert.True(train["learning_rate"]!.GetValue<double>() >= 0);
        }
        Assert.Equal(2.0 / 4, rows[1]["epoch"]!.GetValue<double>(), 9); // 8 rows, batch 2: 4 steps per epoch

        var summary = JsonNode.Parse(File.ReadAllText(Path.Combine(output, TrainArtifact.SummaryFile)))!.AsObject();
        Assert.Equal(4, summary["global_steps"]!.GetValue<int>());
        Assert.Equal(1.0, summary["epochs"]!.GetValue<double>(), 9);
        Assert.Equal(1, summary["warmup_steps"]!.GetValue<int>());
        Assert.Equal(rows[0]["eval_loss"]!.GetValue<double>(), summary["eval_loss_before"]!.GetValue<double>());
        Assert.Equal(rows[^1]["eval_loss"]!.GetValue<double>(), summary["eval_loss_after"]!.GetValue<double>());
        Assert.Equal(rows[3]["loss"]!.GetValue<double>(), summary["final_loss"]!.GetValue<double>());
        Assert.Equal(rows.Where(r => r.ContainsKey("tokens")).Sum(r => r["tokens"]!.GetValue<long>()), summary["tokens_seen"]!.GetValue<long>());
        Assert.Equal(ExpectedTrainableParameters(), summary["trainable_parameters"]!.GetValue<long>());
        Assert.Equal(1234, summary["seed"]!.GetValue<long>());
        Assert.False(summary["gradient_checkpointing"]!.GetValue<bool>()); // auto on CPU
        Assert.Equal(8, summary["rows"]!.GetValue<int>());
        Assert.Equal(2e-3, summary["hyperparameters"]!["learning_rate"]!.GetValue<double>());
        Assert.Equal("adamw", summary["hyperparameters"]!["optimizer"]!.GetValue<string>());
        Assert.True(summary["runtime_seconds"]!.GetValue<double>() > 0);
        Assert.Equal(summary["global_steps"]!.GetValue<int>(), outcome.Metrics["global_steps"]!.GetValue<int>());

        Assert.Equal(File.ReadAllText(Path.Combine(inputs.Data, "files.json")), File.ReadAllText(Path.Combine(output, TrainArtifact.DataFilesFile)));
        string card = File.ReadAllText(Path.Combine(output, TrainArtifact.ReadmeFile));
        Assert.StartsWith("---\nlibrary_name: peft\n", card);
        Assert.Contains("| rag.csv | `4f1c0e0b", card);
        Assert.Contains("| learning_rate | 0.002 |", card);
        Assert.Contains("**Base model:** `tiny`", card);

        foreach (var name in new[] { TrainArtifact.MetricsFile, TrainArtifact.SummaryFile })
            Assert.Equal(File.ReadAllBytes(Path.Combine(output, name)), File.ReadAllBytes(Path.Combine(context.ReportDirectory, name)));
        Assert.Equal(
            [TrainArtifact.ReadmeFile, AdapterConfig.FileName, AdapterStore.WeightsFileName, TrainArtifact.DataFilesFile,
             TrainArtifact.MetricsFile, TrainArtifact.SummaryFile],
            Directory.GetFileSystemEntries(output).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        var log = ((RecordingProgress)context.Progress).Lines;
        Assert.Contains("train 4/4 ", log.Select(l => l[..Math.Min(l.Length, 10)]));
        Assert.Contains(log, l => l.StartsWith("step 2: loss "));
    }

    // q/k/v/o and the MLP of the tiny preset: hidden 64, q 4 heads × 16, k/v 2 × 16, intermediate 192; r = 4.
    static long ExpectedTrainableParameters()
    {
        long r = 4, h = 64, q = 64, kv = 32, inter = 192;
        long perLayer = r * (h + q) + 2 * r * (h + kv) + r * (q + h) + 2 * r * (h + inter) + r * (inter + h);
        return 2 * perLayer;
    }

    [Fact]
    public async Task Trains_on_an_nf4_quantized_base_as_the_quantize_stage_leaves_it()
    {
        using var temp = new TempFolder();
        string nf4 = Directory.CreateDirectory(temp.Combine("nf4")).FullName;
        using (var quantized = Nf4ModelStore.QuantizeFromCheckpoint(inputs.Model, ScalarType.BFloat16))
            Nf4ModelStore.Save(quantized, nf4);
        foreach (var name in new[] { "tokenizer.json", "tokenizer_config.json", "generation_config.json" })
            File.Copy(Path.Combine(inputs.Model, name), Path.Combine(nf4, name));
        var context = StageContexts.Create(temp, "train", Short with { MaxSteps = 2 }, new Dictionary<string, IReadOnlyList<string>>
        {
            ["model"] = [nf4], ["adapter"] = [inputs.Adapter], ["data"] = [inputs.Data],
        });
        var outcome = await Run(context);
        var summary = JsonNode.Parse(File.ReadAllText(Path.Combine(context.OutputDirectory, TrainArtifact.SummaryFile)))!.AsObject();
        Assert.True(summary["quantized_base"]!.GetValue<bool>());
        Assert.Equal(ExpectedTrainableParameters(), outcome.Metrics["trainable_parameters"]!.GetValue<long>());
        // A random tiny model starts near ln(151936) + s²/2 ≈ 15.2 (logit scale s = 2.56, TinyPreset's remarks).
        Assert.InRange(summary["first_loss"]!.GetValue<double>(), 13.0, 20.0);
        using var model = PretrainedLoader.Load(inputs.Model);
        AdapterStore.Load(model, context.OutputDirectory); // the adapter fits the 16-bit base as well
    }

    [Fact]
    public async Task Training_loss_falls_over_thirty_steps_with_a_higher_learning_rate()
    {
        using var temp = new TempFolder();
        var context = Context(temp, Short with { MaxSteps = 30, LearningRate = 1e-2, LoggingSteps = 5, WarmupRatio = 0.1 }, withEval: false);
        await Run(context);
        var losses = TrainArtifact.ReadMetrics(context.OutputDirectory).Select(r => r["loss"]!.GetValue<double>()).ToList();
        output.WriteLine(string.Join(", ", losses.Select(l => l.ToString("F3"))));
        Assert.Equal(6, losses.Count);
        // The tiny preset's final norm weight (16) lets an adapter reach confident logits (TinyPreset's remarks), so the
        // loss can fall far: measured 16.07 → 5.37 over these 30 steps. Asserting half of the start leaves margin.
        Assert.True(losses[^1] < losses[0] / 2, $"loss went from {losses[0]:F3} to {losses[^1]:F3}");
        for (int i = 1; i < losses.Count; i++) Assert.True(losses[i] < losses[0], $"log {i}: {losses[i]:F3} ≥ the first {losses[0]:F3}");
    }

    [Fact]
    public async Task Same_seed_gives_byte_identical_adapters_and_another_seed_does_not()
    {
        var bytes = new List<byte[]>();
        foreach (long seed in new long[] { 7, 7, 8 })
        {
            using var temp = new TempFolder();
            var context = Context(temp, Short with { MaxSteps = 3, Optimizer = OptimizerKind.Adamw8bit }, withEval: false, seed: seed);
            await Run(context);
            bytes.Add(File.ReadAllBytes(Path.Combine(context.OutputDirectory, AdapterStore.WeightsFileName)));
        }
        Assert.Equal(bytes[0], bytes[1]);
        Assert.NotEqual(bytes[0], bytes[2]); // the seed drives the data order
    }

    [Fact]
    public async Task Packing_packs_the_rows_into_fewer_sequences_and_trains_on_them()
    {
        using var temp = new TempFolder();
        var context = Context(temp, Short with { MaxSteps = 2, Packing = true, MaxSeqLength = 512 });
        await Run(context);
        var log = ((RecordingProgress)context.Progress).Lines;
        var line = Assert.Single(log, l => l.StartsWith("packing: "));
        output.WriteLine(line);
        var words = line.Split(' ');
        int rows = int.Parse(words[1]), sequences = int.Parse(words[4]);
        Assert.Equal(TrainInputs.Examples.Length, rows);
        Assert.True(sequences < rows, line);
        var losses = TrainArtifact.ReadMetrics(context.OutputDirectory).Where(r => r["loss"] is not null)
            .Select(r => r["loss"]!.GetValue<double>()).ToList();
        Assert.NotEmpty(losses);
        Assert.All(losses, l => Assert.True(double.IsFinite(l) && l > 0, $"loss {l}"));
        Assert.True(File.Exists(Path.Combine(context.OutputDirectory, AdapterStore.WeightsFileName)));
    }

    [Fact]
    public async Task A_data_folder_without_texts_is_an_error_naming_the_file()
    {
        using var temp = new TempFolder();
        string empty = Directory.CreateDirectory(temp.Combine("not-format")).FullName;
        var e = await Assert.ThrowsAsync<DatasetFormatException>(() => Run(Context(temp, Short, data: empty)));
        Assert.Equal($"{Path.Combine(empty, FormatArtifact.TextsFile)}: missing: the format stage writes its rendered texts there", e.Message);
    }

    [Fact]
    public async Task A_malformed_texts_line_is_an_error_naming_file_and_line()
    {
        using var temp = new TempFolder();
        string data = Directory.CreateDirectory(temp.Combine("format")).FullName;
        File.WriteAllLines(Path.Combine(data, FormatArtifact.TextsFile), ["{\"text\": \"a\"}", "{\"txt\": \"b\"}"]);
        var e = await Assert.ThrowsAsync<DatasetFormatException>(() => Run(Context(temp, Short, withEval: false, data: data)));
        Assert.Equal($"{Path.Combine(data, FormatArtifact.TextsFile)}: line 2: expected an object with a string 'text'", e.Message);
    }

    [Fact]
    public async Task Texts_without_the_response_template_are_refused_before_training()
    {
        using var temp = new TempFolder();
        string data = Directory.CreateDirectory(temp.Combine("format")).FullName;
        FormatArtifact.WriteTexts(data, ["just some text", "<|im_start|>user\nhi<|im_end|>\n"]);
        var e = await Assert.ThrowsAsync<InvalidDataException>(() => Run(Context(temp, Short, withEval: false, data: data)));
        Assert.Contains("texts.jsonl: no row has an answer to learn: response_template '<|im_start|>assistant' was found in none of the 2 texts", e.Message);
    }

    [Fact]
    public async Task Cancellation_stops_between_steps()
    {
        using var temp = new TempFolder();
        using var cts = new CancellationTokenSource();
        var context = Context(temp, Short with { MaxSteps = 20 }, withEval: false);
        var cancelling = new StageContext
        {
            Stage = context.Stage, Inputs = context.Inputs, OutputDirectory = context.OutputDirectory, ReportDirectory = context.ReportDirectory,
            Seed = context.Seed, Device = context.Device, Progress = new CancelAt("train 2/20", cts),
        };
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Run(cancelling, cts.Token));
        Assert.Equal(2, ((CancelAt)cancelling.Progress).LastStep);
        Assert.False(File.Exists(Path.Combine(context.OutputDirectory, AdapterStore.WeightsFileName)));
    }

    sealed class CancelAt(string prefix, CancellationTokenSource cts) : IStageProgress
    {
        public int LastStep { get; private set; }
        public void Log(string message) { }
        public void Report(string step, long done, long total, string? status = null)
        {
            LastStep = (int)done;
            if ($"{step} {done}/{total}" == prefix) cts.Cancel();
        }
    }
}

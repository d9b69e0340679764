using System.Text.Json.Nodes;
using RaftPipeline.Core.Spec.Stages;
using RaftPipeline.Modeling.Adapters;
using RaftPipeline.Modeling.Loading;
using RaftPipeline.Modeling.Lora;
using RaftPipeline.Modeling.Safetensors;
using RaftPipeline.Stages.Merge;
using RaftPipeline.Stages.Tests.TestSupport;
using TorchSharp;
using static TorchSharp.torch;

namespace RaftPipeline.Stages.Tests.Merge;

public class MergeStageExecutorTests(TinyModelFolder tiny) : IClassFixture<TinyModelFolder>
{
    public const string Sha = "3f2a9c0b5e1d47a8b6c4e2f0a1b3c5d7e9f1a3b5c7d9e1f3a5b7c9d1e3f5a7b9";

    static readonly LoraConfig Lora = new()
    {
        R = 2, Alpha = 4, Targets = LoraTargets.FromNames("q_proj", "down_proj"), Init = RaftPipeline.Modeling.Lora.LoraInit.Random, Seed = 11,
    };

    /// <summary>A trained-looking adapter: random A and B (so the merge changes the weights) plus the train stage's side files.</summary>
    public static string WriteAdapter(string baseDir, string dir)
    {
        using (var model = PretrainedLoader.Load(baseDir))
        {
            LoraInjector.Apply(model, Lora);
            AdapterStore.Save(model, AdapterConfig.From(Lora, "raft-tiny-test"), dir);
        }
        File.WriteAllText(Path.Combine(dir, "data_files.json"),
            $$"""[{"file": "RAG_Data_full.csv", "sha256": "{{Sha}}", "encoding": "cp949", "rows": 150}]""");
        File.WriteAllText(Path.Combine(dir, "train_summary.json"), """{"steps": 10, "final_loss": 1.2345, "runtime_seconds": 3.5, "trainable_parameters": 1536}""");
        return dir;
    }

    public static string WriteEval(string dir)
    {
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "eval.json"), """
            {"rows": 20, "answerable": 15, "unanswerable": 5,
             "models": {"base": {"opening_rate": 0.0, "quote_rate": 0.1, "refusal_rate": 0.0, "loss": 3.5},
                        "tuned": {"opening_rate": 0.8, "quote_rate": 0.6, "refusal_rate": 1.0, "loss": 1.25}}}
            """);
        return dir;
    }

    [Fact]
    public async Task Merged_weights_are_W_plus_scaled_BA_and_both_cards_carry_hashes_hyperparameters_and_eval()
    {
        using var scope = NewDisposeScope();
        using var temp = new TempFolder();
        var adapter = WriteAdapter(tiny.Path, temp.Combine("adapter"));
        var eval = WriteEval(temp.Combine("eval"));
        var context = StageContexts.Create(temp, "merge", new MergeParameters { Dtype = TensorDtype.Fp32, BaseModel = "Qwen/Qwen3-4B-Instruct-2507" },
            new Dictionary<string, IReadOnlyList<string>> { ["model"] = [tiny.Path], ["adapter"] = [adapter], ["eval"] = [eval] });
        var outcome = await new MergeStageExecutor().RunAsync(context, CancellationToken.None);
        var output = context.OutputDirectory;

        Assert.Equal(2 * 2, (int)outcome.Metrics["merged_weights"]!);
        using var merged = SafetensorsCheckpoint.Open(output);
        using var source = SafetensorsCheckpoint.Open(tiny.Path);
        using var weights = SafetensorsFile.Open(Path.Combine(adapter, "adapter_model.safetensors"));
        const string q = "model.layers.1.self_attn.q_proj";
        var w = source.Read(q + ".weight", dtype: ScalarType.Float32);
        var expected = w + torch.matmul(weights.Read($"base_model.model.{q}.lora_B.weight"), weights.Read($"base_model.model.{q}.lora_A.weight")) * (4.0 / 2);
        var actual = merged.Read(q + ".weight");
        Assert.Equal(ScalarType.Float32, actual.dtype);
        Assert.True(actual.allclose(expected, rtol: 1e-6, atol: 1e-7));
        Assert.False(actual.allclose(w), "a random B changes the weight");
        const string k = "model.layers.1.self_attn.k_proj.weight"; // not targeted: copied, only converted
        Assert.True(merged.Read(k).eq(source.Read(k, dtype: ScalarType.Float32)).all().item<bool>());

        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(output, "config.json")))!;
        Assert.Equal("float32", (string)config["dtype"]!);
        foreach (var name in new[] { "tokenizer.json", "tokenizer_config.json", "generation_config.json" })
            Assert.Equal(File.ReadAllBytes(Path.Combine(tiny.Path, name)), File.ReadAllBytes(Path.Combine(output, name)));

        var adapterCopy = Path.Combine(output, "adapter");
        Assert.Equal(File.ReadAllBytes(Path.Combine(adapter, "adapter_model.safetensors")), File.ReadAllBytes(Path.Combine(adapterCopy, "adapter_model.safetensors")));
        var adapterConfig = JsonNode.Parse(File.ReadAllText(Path.Combine(adapterCopy, "adapter_config.json")))!;
        Assert.Equal("Qwen/Qwen3-4B-Instruct-2507", (string)adapterConfig["base_model_name_or_path"]!);
        Assert.True(File.Exists(Path.Combine(adapterCopy, "tokenizer.json")));

        var adapterCard = File.ReadAllText(Path.Combine(adapterCopy, "README.md"));
        var modelCard = File.ReadAllText(Path.Combine(output, "README.md"));
        Assert.StartsWith("---\nbase_model: Qwen/Qwen3-4B-Instruct-2507\nlibrary_name: peft\n", adapterCard);
        Assert.StartsWith("---\nbase_model: Qwen/Qwen3-4B-Instruct-2507\nlibrary_name: transformers\n", modelCard);
        Assert.Contains("- base_model:adapter:Qwen/Qwen3-4B-Instruct-2507\n", adapterCard);
        foreach (var card in new[] { adapterCard, modelCard })
        {
            Assert.Contains($"| RAG_Data_full.csv | `{Sha}` | cp949 | 150 |", card);
            Assert.Contains("| r | 2 |", card);
            Assert.Contains("| lora_alpha | 4 |", card);
            Assert.Contains("| target_modules | q_proj, down_proj |", card);
            Assert.Contains("| final_loss | 1.2345 |", card);
            Assert.Contains("Held-out split: 20 rows, 15 answerable, 5 unanswerable.", card);
            Assert.Contains("| base | 0.0% | 10.0% | 0.0% | 3.5000 |", card);
            Assert.Contains("| tuned | 80.0% | 60.0% | 100.0% | 1.2500 |", card);
        }
        Assert.Contains("PeftModel.from_pretrained(base, adapter)", adapterCard);
        // The model card names adapter/ because it is beside it; no card is copied where its neighbours are not.
        Assert.Contains("The adapter alone is in `adapter/`.", modelCard);
        Assert.True(File.Exists(Path.Combine(output, "adapter", "adapter_config.json")));
        Assert.Empty(Directory.EnumerateFiles(context.ReportDirectory, "*.md", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task Without_eval_or_a_hub_id_the_cards_leave_those_parts_out_and_keep_the_base_dtype()
    {
        using var temp = new TempFolder();
        var adapter = WriteAdapter(tiny.Path, temp.Combine("adapter"));
        var context = StageContexts.Create(temp, "merge", new MergeParameters(),
            new Dictionary<string, IReadOnlyList<string>> { ["model"] = [tiny.Path], ["adapter"] = [adapter] });
        await new MergeStageExecutor().RunAsync(context, CancellationToken.None);
        using var merged = SafetensorsCheckpoint.Open(context.OutputDirectory);
        Assert.Equal(ScalarType.BFloat16, merged.Entry("model.layers.0.mlp.down_proj.weight").Dtype);
        var card = File.ReadAllText(Path.Combine(context.OutputDirectory, "README.md"));
        Assert.StartsWith("---\nlibrary_name: transformers\n", card);
        Assert.Contains("# raft-tiny-test + LoRA (merged)", card);
        Assert.DoesNotContain("## Evaluation", card);
        Assert.Equal("raft-tiny-test", (string)JsonNode.Parse(File.ReadAllText(Path.Combine(context.OutputDirectory, "adapter", "adapter_config.json")))!["base_model_name_or_path"]!);
    }

    [Theory]
    [InlineData("5GB", 5_000_000_000L)]
    [InlineData("500MB", 500_000_000L)]
    [InlineData("2KiB", 2048L)]
    [InlineData("3GiB", 3L << 30)]
    public void Shard_sizes_read_as_transformers_reads_them(string text, long bytes) => Assert.Equal(bytes, ShardSize.Parse(text));

    [Fact]
    public void A_shard_size_without_a_unit_is_an_error_that_says_what_is_expected()
    {
        var e = Assert.Throws<FormatException>(() => ShardSize.Parse("5"));
        Assert.Equal("max_shard_size '5': expected a whole number and a unit (B, KB, MB, GB, KiB, MiB, GiB), e.g. 5GB", e.Message);
    }
}

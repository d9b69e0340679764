using RaftPipeline.Modeling.Adapters;
using RaftPipeline.Modeling.Loading;
using RaftPipeline.Modeling.Lora;
using RaftPipeline.Modeling.Merge;
using RaftPipeline.Modeling.Safetensors;
using RaftPipeline.Modeling.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace RaftPipeline.Modeling.Tests.Merge;

public class AdapterMergerTests
{
    // Before any torch type is touched (NewDisposeScope included): libtorch must be patched first.
    public AdapterMergerTests() => RaftPipeline.Modeling.Native.TorchRuntime.EnsureInitialized();

    static readonly LoraConfig Config = new() { R = 4, Alpha = 8, Targets = LoraTargets.AttentionAndMlp(), Init = LoraInit.Random, Seed = 3 };

    [Fact]
    public void Merged_folder_gives_the_logits_of_base_plus_adapter_and_carries_the_adapters_tokenizer_files()
    {
        using var dir = new TempDir();
        using var scope = NewDisposeScope();
        var baseDir = Path.Combine(dir.Path, "base");
        var adapterDir = Path.Combine(dir.Path, "adapter");
        var outDir = Path.Combine(dir.Path, "merged");
        using (var model = TinyModels.Build())
        {
            // fp32 base so the comparison measures the merge, not bf16 rounding; small shards to exercise sharding.
            PretrainedSaver.Save(model, baseDir, ScalarType.Float32, maxShardBytes: 40_000);
        }
        File.WriteAllText(Path.Combine(baseDir, "generation_config.json"), "{\"eos_token_id\": 299}");
        File.WriteAllText(Path.Combine(baseDir, "tokenizer_config.json"), "{\"from\": \"base\"}");
        File.WriteAllText(Path.Combine(baseDir, "tokenizer.json"), "{\"from\": \"base\"}");
        Directory.CreateDirectory(adapterDir);
        File.WriteAllText(Path.Combine(adapterDir, "tokenizer_config.json"), "{\"from\": \"adapter\", \"chat_template\": \"x\"}");

        using var withAdapter = PretrainedLoader.Load(baseDir);
        LoraInjector.Apply(withAdapter, Config);
        AdapterStore.Save(withAdapter, AdapterConfig.From(Config, baseDir), adapterDir);
        withAdapter.eval();
        var ids = torch.tensor(new long[] { 5, 77, 140, 2, 299, 31, 8 }).unsqueeze(0);
        var expected = withAdapter.forward(ids);

        var result = AdapterMerger.Merge(baseDir, adapterDir, outDir, maxShardBytes: 40_000);
        Assert.True(result.WeightFiles.Count > 1);
        Assert.True(File.Exists(Path.Combine(outDir, SafetensorsWriter.IndexFileName)));
        Assert.Equal(14, result.MergedKeys.Count);
        using var merged = PretrainedLoader.Load(outDir);
        merged.eval();
        var actual = merged.forward(ids);
        Assert.True(torch.allclose(expected, actual, rtol: 1e-4, atol: 1e-5),
            $"max |diff| {(expected - actual).abs().max().item<float>()}");

        Assert.Equal("{\"from\": \"adapter\", \"chat_template\": \"x\"}", File.ReadAllText(Path.Combine(outDir, "tokenizer_config.json")));
        Assert.Equal("{\"from\": \"base\"}", File.ReadAllText(Path.Combine(outDir, "tokenizer.json")));
        Assert.Equal("{\"eos_token_id\": 299}", File.ReadAllText(Path.Combine(outDir, "generation_config.json")));
        Assert.True(File.Exists(Path.Combine(outDir, "config.json")));
    }

    [Fact]
    public void Weights_for_a_module_that_target_modules_does_not_select_are_refused_and_nothing_is_written()
    {
        using var dir = new TempDir();
        using var scope = NewDisposeScope();
        var outDir = Path.Combine(dir.Path, "out");
        using var withAdapter = SaveBaseAndAdapter(dir, ScalarType.Float32, out var baseDir, out var adapterDir);
        // The config now says q_proj only; the weights still hold every projection (peft would ignore the rest).
        var configPath = Path.Combine(adapterDir, AdapterConfig.FileName);
        var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(configPath))!;
        json["target_modules"] = new System.Text.Json.Nodes.JsonArray("q_proj");
        File.WriteAllText(configPath, json.ToJsonString());

        var e = Assert.Throws<InvalidDataException>(() => AdapterMerger.Merge(baseDir, adapterDir, outDir));
        Assert.Contains(AdapterStore.WeightsFileName, e.Message);
        Assert.Contains("which target_modules in", e.Message);
        Assert.Matches(@"module 'model\.layers\.\d+\.(self_attn\.[kvo]|mlp\.\w+)_proj'", e.Message);
        Assert.False(Directory.Exists(outDir));
    }

    [Fact]
    public void A_bf16_base_is_merged_in_fp32_and_rounded_once_to_bf16()
    {
        using var dir = new TempDir();
        using var scope = NewDisposeScope();
        using var withAdapter = SaveBaseAndAdapter(dir, ScalarType.BFloat16, out var baseDir, out var adapterDir);
        AdapterMerger.Merge(baseDir, adapterDir, Path.Combine(dir.Path, "out"));
        using var outFile = SafetensorsCheckpoint.Open(Path.Combine(dir.Path, "out"));
        const string key = "model.layers.1.mlp.up_proj.weight";
        var stored = outFile.Read(key);
        Assert.Equal(ScalarType.BFloat16, stored.dtype);
        var layer = (LoraLinear)withAdapter.GetLinear("model.layers.1.mlp.up_proj");
        Assert.True(layer.DenseWeight(ScalarType.BFloat16).eq(stored).all().item<bool>());
        // Untouched tensors are copied bit for bit.
        using var baseFile = SafetensorsCheckpoint.Open(baseDir);
        Assert.True(baseFile.Read("model.norm.weight").eq(outFile.Read("model.norm.weight")).all().item<bool>());
    }

    /// <summary>A tiny base saved in <paramref name="dtype"/> under dir/base and a random adapter for it under dir/adapter; returns the base with that adapter attached.</summary>
    static RaftPipeline.Modeling.Decoder.CausalLM SaveBaseAndAdapter(TempDir dir, ScalarType dtype, out string baseDir, out string adapterDir)
    {
        baseDir = Path.Combine(dir.Path, "base");
        adapterDir = Path.Combine(dir.Path, "adapter");
        using (var model = TinyModels.Build()) PretrainedSaver.Save(model, baseDir, dtype);
        var withAdapter = PretrainedLoader.Load(baseDir);
        LoraInjector.Apply(withAdapter, Config);
        AdapterStore.Save(withAdapter, AdapterConfig.From(Config, baseDir), adapterDir);
        return withAdapter;
    }
}

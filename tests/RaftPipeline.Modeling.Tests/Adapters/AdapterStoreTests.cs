using System.Text.Json.Nodes;
using RaftPipeline.Modeling.Adapters;
using RaftPipeline.Modeling.Loading;
using RaftPipeline.Modeling.Lora;
using RaftPipeline.Modeling.Safetensors;
using RaftPipeline.Modeling.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace RaftPipeline.Modeling.Tests.Adapters;

public class AdapterStoreTests
{
    // Before any torch type is touched (NewDisposeScope included): libtorch must be patched first.
    public AdapterStoreTests() => RaftPipeline.Modeling.Native.TorchRuntime.EnsureInitialized();

    static readonly LoraConfig Config = new()
    {
        R = 4, Alpha = 8, Dropout = 0.05, Targets = LoraTargets.AttentionAndMlp(), Init = LoraInit.Random, Seed = 5,
    };

    static Tensor Ids => torch.tensor(new long[] { 3, 17, 250, 8, 99, 1 }).unsqueeze(0);

    [Fact]
    public void Saved_adapter_has_peft_keys_shapes_and_config_and_reloads_to_the_same_logits()
    {
        using var dir = new TempDir();
        using var scope = NewDisposeScope();
        using var model = TinyModels.Build();
        var wrapped = LoraInjector.Apply(model, Config);
        model.eval();
        var expected = model.forward(Ids);
        AdapterStore.Save(model, AdapterConfig.From(Config, "tiny-base"), dir.Path);

        using var file = SafetensorsFile.Open(dir.File(AdapterStore.WeightsFileName));
        Assert.Equal(wrapped.Count * 2, file.Entries.Count);
        // hidden 32, 4 heads x 16 = 64 for q, 2 x 16 = 32 for k/v, intermediate 48.
        var a = file.Entry("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight");
        Assert.Equal("F32", a.DtypeName);
        Assert.Equal(new long[] { 4, 32 }, a.Shape);
        var b = file.Entry("base_model.model.model.layers.1.mlp.down_proj.lora_B.weight");
        Assert.Equal("F32", b.DtypeName);
        Assert.Equal(new long[] { 32, 4 }, b.Shape);

        var json = JsonNode.Parse(File.ReadAllText(dir.File(AdapterConfig.FileName)))!.AsObject();
        Assert.Equal("LORA", (string)json["peft_type"]!);
        Assert.Equal("CAUSAL_LM", (string)json["task_type"]!);
        Assert.Equal(4, (int)json["r"]!);
        Assert.Equal(8, (int)json["lora_alpha"]!);
        Assert.Equal(0.05, (double)json["lora_dropout"]!);
        Assert.Equal("none", (string)json["bias"]!);
        Assert.False((bool)json["use_rslora"]!);
        Assert.False((bool)json["use_dora"]!);
        Assert.False((bool)json["fan_in_fan_out"]!);
        Assert.Equal("tiny-base", (string)json["base_model_name_or_path"]!);
        Assert.Equal(new[] { "q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj" },
            json["target_modules"]!.AsArray().Select(n => (string)n!));

        using var fresh = TinyModels.Build();
        var loaded = AdapterStore.Load(fresh, dir.Path);
        fresh.eval();
        Assert.Equal(2.0, loaded.Lora.Scaling);
        Assert.True(expected.eq(fresh.forward(Ids)).all().item<bool>());
    }

    [Fact]
    public void An_adapter_for_a_different_shape_is_refused_naming_the_first_key()
    {
        using var dir = new TempDir();
        using (var model = TinyModels.Build())
        {
            LoraInjector.Apply(model, Config);
            AdapterStore.Save(model, AdapterConfig.From(Config, null), dir.Path);
        }
        using var wider = TinyModels.Build(TinyModels.Config() with { HiddenSize = 48 });
        var e = Assert.Throws<InvalidDataException>(() => AdapterStore.Load(wider, dir.Path));
        Assert.Contains("key 'base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight' has shape [4, 32], the base model needs [4, 48]", e.Message);
        Assert.DoesNotContain(wider.named_modules(), m => m.module is LoraLinear);   // nothing half-applied
    }

    [Fact]
    public void An_adapter_for_a_module_the_base_lacks_is_refused_naming_the_key()
    {
        using var dir = new TempDir();
        using (var model = TinyModels.Build())
        {
            LoraInjector.Apply(model, Config);
            AdapterStore.Save(model, AdapterConfig.From(Config, null), dir.Path);
        }
        using var shallow = TinyModels.Build(TinyModels.Config() with { NumHiddenLayers = 1 });
        var e = Assert.Throws<InvalidDataException>(() => AdapterStore.Load(shallow, dir.Path));
        Assert.Contains("key 'base_model.model.model.layers.1.", e.Message);
        Assert.Contains("which the base model does not have", e.Message);
    }

    [Fact]
    public void All_linear_is_saved_as_the_leaf_names_peft_expands_it_to()
    {
        using var model = TinyModels.Build();
        var config = Config with { Targets = LoraTargets.AllLinear() };
        var wrapped = LoraInjector.Apply(model, config);
        Assert.DoesNotContain("lm_head", wrapped);
        var json = JsonNode.Parse(AdapterConfig.From(config, null, wrapped).ToJson())!;
        Assert.Equal(new[] { "down_proj", "gate_proj", "k_proj", "o_proj", "q_proj", "up_proj", "v_proj" },
            json["target_modules"]!.AsArray().Select(n => (string)n!));
    }
}

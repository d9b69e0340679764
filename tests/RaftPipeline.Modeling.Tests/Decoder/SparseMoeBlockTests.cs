using RaftPipeline.Modeling.Adapters;
using RaftPipeline.Modeling.Config;
using RaftPipeline.Modeling.Decoder;
using RaftPipeline.Modeling.Layers;
using RaftPipeline.Modeling.Loading;
using RaftPipeline.Modeling.Lora;
using RaftPipeline.Modeling.Native;
using RaftPipeline.Modeling.Quantization;
using RaftPipeline.Modeling.Safetensors;
using RaftPipeline.Modeling.Tests.Families;
using RaftPipeline.Modeling.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace RaftPipeline.Modeling.Tests.Decoder;

/// <summary>
/// Qwen3-MoE's block beyond the logits parity (FamilyParityTests): which layers are sparse and what their keys are, what
/// peft's targets reach, that gradients reach exactly the experts the router chose, and that the adapter we save
/// is peft's file, key for key and value for value.
/// </summary>
public class SparseMoeBlockTests
{
    public SparseMoeBlockTests()
    {
        TorchRuntime.EnsureInitialized();
        torch.set_num_threads(1);
    }

    static string Fixture => FamilyParityTests.Dir("qwen3_moe");

    static ModelConfig Mixed() => ModelConfigReader.Parse("""
        {"model_type": "qwen3_moe", "vocab_size": 64, "hidden_size": 16, "intermediate_size": 24, "num_hidden_layers": 2,
         "num_attention_heads": 2, "num_key_value_heads": 1, "head_dim": 8, "rms_norm_eps": 1e-6, "rope_theta": 10000.0,
         "num_experts": 3, "num_experts_per_tok": 2, "moe_intermediate_size": 8, "mlp_only_layers": [0]}
        """, "mixed/config.json");

    [Fact]
    public void Dense_and_sparse_layers_carry_transformers_keys_and_peft_targets_reach_only_what_peft_reaches()
    {
        using var model = new CausalLM(Mixed(), ScalarType.Float32, CPU);
        var names = model.named_parameters().Select(p => p.name).ToHashSet();
        Assert.Contains("model.layers.0.mlp.gate_proj.weight", names);     // mlp_only_layers: the dense MLP
        Assert.Contains("model.layers.1.mlp.gate.weight", names);          // the router
        Assert.Contains("model.layers.1.mlp.experts.2.down_proj.weight", names);
        Assert.DoesNotContain("model.layers.0.mlp.gate.weight", names);
        Assert.DoesNotContain("model.layers.1.mlp.gate_proj.weight", names);
        Assert.Equal(4 + 3 + 4 + 3 * 3, model.LinearPaths().Count()); // the router is no linear slot: NF4 and LoRA leave it
        Assert.Contains("model.layers.1.mlp.experts.0.up_proj", model.LinearPaths());

        // target_modules naming the MLP projections is refused where it reaches a dense layer's (mlp_only_layers): peft
        // on transformers 5.x reads those names in a mixture-of-experts adapter as the experts (gate_up_proj at 2r).
        var dense = Assert.Throws<InvalidOperationException>(() => LoraInjector.Apply(new CausalLM(Mixed(), ScalarType.Float32, CPU),
            new LoraConfig { R = 2, Targets = LoraTargets.FromNames("gate_proj", "up_proj", "down_proj"), TargetParameters = ["mlp.experts.down_proj"] }));
        Assert.Contains("selects 'model.layers.0.mlp.gate_proj', a dense MLP projection of a mixture-of-experts model", dense.Message);
        Assert.Contains("mlp.experts.gate_up_proj, mlp.experts.down_proj", dense.Message);

        // Attention by name, one expert tensor by target_parameters; target_modules never reaches an expert.
        var lora = new LoraConfig { R = 2, Targets = LoraTargets.FromNames("q_proj", "k_proj"), TargetParameters = ["mlp.experts.down_proj"] };
        var wrapped = LoraInjector.Apply(model, lora);
        Assert.Equal(["model.layers.0.self_attn.q_proj", "model.layers.0.self_attn.k_proj", "model.layers.1.self_attn.q_proj",
            "model.layers.1.self_attn.k_proj", "model.layers.1.mlp.experts.down_proj"], wrapped);
        // The saved config names only what matched: a name that reached nothing would be read by peft as the experts.
        var saved = AdapterConfig.From(lora with { Targets = LoraTargets.FromNames("q_proj", "k_proj", "gate_proj") }, "m", wrapped, expertModel: true);
        Assert.Equal("""["q_proj","k_proj"]""", saved.TargetModules!.ToJsonString());
        Assert.IsType<Linear>(model.GetLinear("model.layers.1.mlp.experts.0.down_proj"));
        var experts = model.model.layers[1].Moe!.experts;
        Assert.Null(experts.GateUpLora);
        Assert.Equal([6, 8], experts.DownLora!.lora_A.shape);   // [r · experts, inner]
        Assert.Equal([16, 6], experts.DownLora.lora_B.shape);   // [hidden, r · experts]
        // Only one tensor wrapped: peft's key has no base_layer level.
        Assert.Contains(LoraInjector.AdapterTensors(model), t => t.Key == "base_model.model.model.layers.1.mlp.experts.lora_A.weight");

        var e = Assert.Throws<ArgumentException>(() => LoraInjector.Apply(new CausalLM(Mixed(), ScalarType.Float32, CPU),
            new LoraConfig { Targets = LoraTargets.NoModules(), TargetParameters = ["mlp.experts.w1"] }));
        Assert.Equal("LoRA config: target_parameters entry 'mlp.experts.w1' selects no expert tensor of this model " +
                     "(supported: mlp.experts.gate_up_proj, mlp.experts.down_proj)", e.Message);
        var g = Assert.Throws<InvalidOperationException>(() => LoraInjector.Apply(new CausalLM(Mixed(), ScalarType.Float32, CPU),
            new LoraConfig { Targets = LoraTargets.FromNames("q_proj", "gate") }));
        Assert.Contains("selects 'model.layers.1.mlp.gate', a router", g.Message);
        // peft's ParamWrapper refuses dropout on a wrapped tensor; so do we.
        var d = Assert.Throws<ArgumentException>(() => LoraInjector.Apply(new CausalLM(Mixed(), ScalarType.Float32, CPU),
            new LoraConfig { Dropout = 0.1, Targets = LoraTargets.NoModules(), TargetParameters = ["mlp.experts.gate_up_proj"] }));
        Assert.Contains("lora_dropout 0.1 is not supported on target_parameters", d.Message);
    }

    [Fact]
    public void Gradients_reach_the_expert_adapters_of_the_chosen_experts_only()
    {
        using var model = PretrainedLoader.Load(Path.Combine(Fixture, "model"), CPU, ScalarType.Float32);
        ModelFolderLoader.AttachAdapter(model, Path.Combine(Fixture, "adapter"), trainable: true);
        var block = model.model.layers[0].Moe!;
        using var scope = torch.NewDisposeScope();
        var x = torch.randn([1, 1, model.Config.HiddenSize], generator: new torch.Generator(5));
        block.Forward(x).sum().backward();
        var chosen = block.gate.Route(x.reshape(1, -1)).Experts.data<long>().Select(i => (int)i).ToHashSet();
        Assert.Equal(2, chosen.Count);
        int r = 4, experts = block.experts.Count;
        foreach (var lora in block.experts.Adapters)
        {
            var gradA = lora.lora_A.grad!;
            var gradB = lora.lora_B.grad!.view(lora.lora_B.shape[0], r, experts);
            for (int e = 0; e < experts; e++)
            {
                double a = gradA.narrow(0, e * r, r).abs().sum().item<float>();
                double b = gradB.select(2, e).abs().sum().item<float>();
                if (chosen.Contains(e)) Assert.True(a > 0 && b > 0, $"{lora.ParameterName}: chosen expert {e} got no gradient");
                else Assert.True(a == 0 && b == 0, $"{lora.ParameterName}: expert {e} was not chosen but got gradient {a}, {b}");
            }
        }
    }

    [Fact]
    public void The_adapter_we_save_is_pefts_file_key_for_key()
    {
        using var model = PretrainedLoader.Load(Path.Combine(Fixture, "model"), CPU, ScalarType.Float32);
        var config = AdapterStore.Load(model, Path.Combine(Fixture, "adapter"));
        Assert.Equal(["mlp.experts.down_proj", "mlp.experts.gate_up_proj"], config.Lora.TargetParameters);
        using var tmp = new TempDir();
        AdapterStore.Save(model, config, tmp.Path);
        using var theirs = SafetensorsFile.Open(Path.Combine(Fixture, "adapter", AdapterStore.WeightsFileName));
        using var ours = SafetensorsFile.Open(Path.Combine(tmp.Path, AdapterStore.WeightsFileName));
        Assert.Equal(theirs.Entries.Select(e => e.Name).Order(), ours.Entries.Select(e => e.Name).Order());
        foreach (var entry in theirs.Entries)
            Assert.True(theirs.Read(entry.Name).equal(ours.Read(entry.Name)).all().item<bool>(), $"{entry.Name} differs");
        var written = AdapterConfig.Read(Path.Combine(tmp.Path, AdapterConfig.FileName));
        Assert.Equal(config.Lora.TargetParameters, written.Lora.TargetParameters);
    }

    [Fact]
    public void An_nf4_folder_keeps_every_expert_quantized_and_the_router_exact()
    {
        using var quantized = Nf4ModelStore.QuantizeFromCheckpoint(Path.Combine(Fixture, "model"), ScalarType.Float32);
        using var tmp = new TempDir();
        Nf4ModelStore.Save(quantized, tmp.Path);
        using var file = SafetensorsCheckpoint.Open(tmp.Path);
        Assert.True(file.Contains("model.layers.1.mlp.experts.3.up_proj.weight.quant_state.bitsandbytes__nf4"));
        Assert.False(file.Contains("model.layers.1.mlp.gate.weight.quant_state.bitsandbytes__nf4"));
        using var loaded = ModelFolderLoader.Load(tmp.Path, CPU, ScalarType.Float32);
        Assert.All(loaded.LinearPaths(), p => Assert.IsType<Nf4Linear>(loaded.GetLinear(p)));
        using var original = PretrainedLoader.Load(Path.Combine(Fixture, "model"), CPU, ScalarType.Float32);
        Assert.True(original.model.layers[1].Moe!.gate.weight.equal(loaded.model.layers[1].Moe!.gate.weight).all().item<bool>());
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var ids = torch.tensor(new long[] { 5, 77, 130, 9, 200, 41 }).unsqueeze(0);
        Assert.True(quantized.Forward(ids).Logits.allclose(loaded.Forward(ids).Logits, rtol: 0, atol: 1e-5), "the saved NF4 folder computes what the quantized model did");
    }

    [Fact]
    public void The_sorted_dispatch_equals_each_token_summing_its_chosen_experts_and_skips_idle_ones()
    {
        // 16 experts, 3 tokens, top 3 with raw (unnormalised) probabilities: most experts receive no token.
        var config = ModelConfigReader.Parse("""
            {"model_type": "qwen3_moe", "vocab_size": 64, "hidden_size": 16, "intermediate_size": 24, "num_hidden_layers": 1,
             "num_attention_heads": 2, "num_key_value_heads": 1, "head_dim": 8, "rms_norm_eps": 1e-6, "rope_theta": 10000.0,
             "num_experts": 16, "num_experts_per_tok": 3, "moe_intermediate_size": 8, "norm_topk_prob": false}
            """, "wide/config.json");
        using var model = new CausalLM(config, ScalarType.Float64, CPU);
        RandomInit.Apply(model, seed: 3, std: 0.3);
        var block = model.model.layers[0].Moe!;
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var x = torch.randn([1, 3, 16], ScalarType.Float64, generator: new torch.Generator(11));
        var got = block.Forward(x).reshape(3, 16);
        var probs = nn.functional.softmax(nn.functional.linear(x.reshape(3, 16), block.gate.weight), -1, ScalarType.Float32).to(ScalarType.Float64); // fp32, as the router
        var (top, chosen) = probs.topk(3, dim: -1);
        for (int t = 0; t < 3; t++)
        {
            var want = torch.zeros(16, ScalarType.Float64);
            for (int j = 0; j < 3; j++)
            {
                var e = chosen[t, j].item<long>();
                var mlp = block.experts[(int)e];
                var row = x.reshape(3, 16)[t].unsqueeze(0);
                var y = mlp.down_proj.forward(nn.functional.silu(mlp.gate_proj!.forward(row)) * mlp.up_proj!.forward(row));
                want += top[t, j] * y[0];
            }
            Assert.True(got[t].allclose(want, rtol: 1e-10, atol: 1e-12), $"token {t}");
        }
        Assert.True(chosen.unique().Item1.shape[0] < 16, "some experts should be idle in this case");
    }

    [Fact]
    public void A_target_parameter_we_do_not_adapt_is_refused_with_the_file_and_the_supported_list()
    {
        // peft would wrap the router weight too; we adapt expert tensors only, so loading and merging refuse it.
        using var tmp = new TempDir();
        var adapter = Path.Combine(tmp.Path, "adapter");
        Directory.CreateDirectory(adapter);
        foreach (var f in Directory.GetFiles(Path.Combine(Fixture, "adapter"))) File.Copy(f, Path.Combine(adapter, Path.GetFileName(f)));
        var configPath = Path.Combine(adapter, AdapterConfig.FileName);
        File.WriteAllText(configPath, File.ReadAllText(configPath).Replace("\"mlp.experts.down_proj\"", "\"mlp.gate.weight\""));
        using var model = PretrainedLoader.Load(Path.Combine(Fixture, "model"), CPU, ScalarType.Float32);
        var e = Assert.Throws<InvalidDataException>(() => AdapterStore.Load(model, adapter));
        Assert.Equal($"{configPath}: target_parameters entry 'mlp.gate.weight' selects no expert tensor of this model " +
                     "(supported: mlp.experts.gate_up_proj, mlp.experts.down_proj)", e.Message);
        Assert.Empty(LoraInjector.AdapterTensors(model)); // nothing attached
        var m = Assert.Throws<InvalidDataException>(() => RaftPipeline.Modeling.Merge.AdapterMerger.Merge(Path.Combine(Fixture, "model"), adapter, Path.Combine(tmp.Path, "merged")));
        Assert.Contains("'mlp.gate.weight' selects no expert tensor", m.Message);
        Assert.False(Directory.Exists(Path.Combine(tmp.Path, "merged")), "nothing is written for a refused adapter");
    }
}

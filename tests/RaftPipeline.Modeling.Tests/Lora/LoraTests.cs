using RaftPipeline.Modeling.Lora;
using RaftPipeline.Modeling.Native;
using TorchSharp;
using static TorchSharp.torch;

namespace RaftPipeline.Modeling.Tests.Lora;

public class LoraTests
{
    public LoraTests() => TorchRuntime.EnsureInitialized();

    static readonly string[] Seven = { "q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj" };

    [Fact]
    public void A_name_list_matches_module_paths_by_suffix_and_leaves_lm_head_alone()
    {
        using var model = ToyCausalLm.Dense();
        var wrapped = LoraInjector.Apply(model, new LoraConfig { R = 2, Targets = LoraTargets.FromNames("q_proj", "down_proj") });
        Assert.Equal(new[]
        {
            "model.layers.0.self_attn.q_proj", "model.layers.0.mlp.down_proj",
            "model.layers.1.self_attn.q_proj", "model.layers.1.mlp.down_proj",
        }, wrapped);
        Assert.Equal(wrapped, LoraInjector.Adapters(model).Select(a => a.Path));
    }

    [Fact]
    public void All_linear_takes_every_linear_but_the_output_head()
    {
        using var model = ToyCausalLm.Dense();
        var wrapped = LoraInjector.Apply(model, new LoraConfig { R = 2, Targets = LoraTargets.FromString("ALL-LINEAR") });
        Assert.Equal(14, wrapped.Count);
        Assert.DoesNotContain("lm_head", wrapped);
        Assert.Equal(Seven.Length * 2, wrapped.Count(p => Seven.Any(s => p.EndsWith("." + s))));
    }

    [Fact]
    public void A_string_is_a_regex_that_must_match_the_whole_path()
    {
        using var model = ToyCausalLm.Dense();
        var wrapped = LoraInjector.Apply(model, new LoraConfig { R = 2, Targets = LoraTargets.FromString(@"model\.layers\.1\.self_attn\.(q|v)_proj") });
        Assert.Equal(new[] { "model.layers.1.self_attn.q_proj", "model.layers.1.self_attn.v_proj" }, wrapped);
        using var other = ToyCausalLm.Dense();
        // "q_proj" alone does not full-match any path: peft refuses, so do we.
        var e = Assert.Throws<InvalidOperationException>(() => LoraInjector.Apply(other, new LoraConfig { R = 2, Targets = LoraTargets.FromString("q_proj") }));
        Assert.StartsWith("Target modules q_proj not found in the base model", e.Message);
    }

    [Fact]
    public void Default_init_is_kaiming_uniform_A_and_zero_B_so_outputs_are_unchanged_and_seeded()
    {
        using var scope = NewDisposeScope();
        using var model = ToyCausalLm.Dense();
        var x = torch.randn(3, 16, generator: new torch.Generator(5));
        var before = model.forward(x);
        LoraInjector.Apply(model, new LoraConfig { R = 4, Alpha = 8, Targets = LoraTargets.FromNames(Seven), Seed = 42 });
        Assert.True(before.eq(model.forward(x)).all().item<bool>());
        foreach (var (path, layer) in LoraInjector.Adapters(model))
        {
            Assert.Equal(new long[] { 4, layer.InFeatures }, layer.LoraA.shape);
            Assert.Equal(new long[] { layer.OutFeatures, 4 }, layer.LoraB.shape);
            Assert.Equal(0, layer.LoraB.abs().sum().item<float>());
            double bound = 1 / Math.Sqrt(layer.InFeatures);
            Assert.True(layer.LoraA.abs().max().item<float>() <= bound, path);
            // A uniform on (-b, b) over >= 64 values: its spread reaches well past half the bound.
            Assert.True(layer.LoraA.abs().max().item<float>() > bound / 2, path);
            Assert.Equal(ScalarType.Float32, layer.LoraA.dtype);
        }
        using var again = ToyCausalLm.Dense();
        LoraInjector.Apply(again, new LoraConfig { R = 4, Alpha = 8, Targets = LoraTargets.FromNames("q_proj"), Seed = 42 });
        // Same seed and path -> same A, even with a different target list.
        var a1 = LoraInjector.Adapters(model).First(a => a.Path == "model.layers.1.self_attn.q_proj").Layer.LoraA;
        var a2 = LoraInjector.Adapters(again).First(a => a.Path == "model.layers.1.self_attn.q_proj").Layer.LoraA;
        Assert.True(a1.eq(a2).all().item<bool>());
        var a0 = LoraInjector.Adapters(model).First(a => a.Path == "model.layers.0.self_attn.q_proj").Layer.LoraA;
        Assert.False(a0.eq(a1).all().item<bool>());
    }

    [Fact]
    public void Forward_adds_scaling_times_B_A_x_and_rslora_scales_by_alpha_over_sqrt_r()
    {
        using var scope = NewDisposeScope();
        foreach (var rslora in new[] { false, true })
        {
            var slot = new DenseSlot(16, 12, 3);
            var config = new LoraConfig { R = 4, Alpha = 8, Targets = LoraTargets.AllLinear(), Init = LoraInit.Random, UseRslora = rslora, Seed = 9 };
            using var lora = new LoraLinear(slot, config, "x");
            Assert.Equal(rslora ? 4.0 : 2.0, lora.Scaling);
            var x = torch.randn(5, 16, generator: new torch.Generator(1));
            var expected = slot.forward(x) + torch.matmul(torch.matmul(x, lora.LoraA.t()), lora.LoraB.t()) * lora.Scaling;
            Assert.True(torch.allclose(expected, lora.forward(x), rtol: 1e-5, atol: 1e-6));
            var dense = slot.DenseWeight(ScalarType.Float32) + torch.matmul(lora.LoraB, lora.LoraA) * lora.Scaling;
            Assert.True(torch.allclose(dense, lora.DenseWeight(ScalarType.Float32), rtol: 1e-6, atol: 1e-7));
        }
    }

    [Fact]
    public void Gaussian_init_draws_A_with_std_one_over_r()
    {
        using var scope = NewDisposeScope();
        using var lora = new LoraLinear(new DenseSlot(4096, 8, 1), new LoraConfig { R = 4, Targets = LoraTargets.AllLinear(), Init = LoraInit.Gaussian }, "g");
        Assert.Equal(0.25, lora.LoraA.std().item<float>(), 2);
        Assert.Equal(0, lora.LoraB.abs().sum().item<float>());
    }

    [Fact]
    public void Trainable_parameter_report_counts_like_peft_on_a_toy_model()
    {
        using var model = ToyCausalLm.Dense();
        foreach (var p in model.parameters()) p.requires_grad = false;
        long baseCount = model.parameters().Sum(p => p.numel());
        LoraInjector.Apply(model, new LoraConfig { R = 2, Targets = LoraTargets.FromNames(Seven) });
        // hidden 16, q 24, kv 8, inter 32: per layer r * ((16+24) + (16+8)*2 + (24+16) + (16+32)*2 + (32+16)) = 2 * 272
        long expected = 2 * 2 * ((16 + 24) + (16 + 8) * 2 + (24 + 16) + (16 + 32) * 2 + (32 + 16));
        var count = TrainableParameters.Count(model);
        Assert.Equal(expected, count.Trainable);
        Assert.Equal(baseCount + expected, count.All);
    }

    [Fact]
    public void Qwen3_4B_with_r4_on_the_seven_projections_has_8_257_536_trainable_parameters()
    {
        // Qwen3-4B: hidden 2560, 32 heads x 128 = 4096 (q, o), 8 KV heads x 128 = 1024 (k, v), intermediate 9728,
        // 36 layers. LoRA adds r * (in + out) per module:
        //   q 4*(2560+4096)=26,624  k 4*(2560+1024)=14,336  v 14,336  o 4*(4096+2560)=26,624
        //   gate 4*(2560+9728)=49,152  up 49,152  down 4*(9728+2560)=49,152   -> 229,376 per layer
        //   x 36 layers = 8,257,536.
        const long perLayer = 4 * (2560 + 4096) + 2 * 4 * (2560 + 1024) + 4 * (4096 + 2560) + 3 * 4 * (2560 + 9728);
        Assert.Equal(229_376, perLayer);
        const long expected = perLayer * 36;
        using var model = new ToyCausalLm(36, 2560, 4096, 1024, 9728, 151936, (i, o, _) => new ShapeOnlySlot(i, o));
        LoraInjector.Apply(model, new LoraConfig { R = 4, Alpha = 8, Targets = LoraTargets.AttentionAndMlp() });
        var lora = TrainableParameters.Count(model);
        Assert.Equal(expected, lora.Trainable);
        Assert.Equal(8_257_536, lora.Trainable);
        // peft's all params = the base's 4,022,468,096 (measured through transformers; 4-bit weights count unpacked)
        // plus the adapter.
        var report = new TrainableParameters(lora.Trainable, 4_022_468_096 + lora.Trainable);
        Assert.Equal("trainable params: 8,257,536 || all params: 4,030,725,632 || trainable%: 0.2049", report.ToString());
    }
}

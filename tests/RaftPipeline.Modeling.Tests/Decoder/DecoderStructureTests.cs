using RaftPipeline.Modeling.Config;
using RaftPipeline.Modeling.Decoder;
using RaftPipeline.Modeling.Layers;
using RaftPipeline.Modeling.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace RaftPipeline.Modeling.Tests.Decoder;

public class DecoderStructureTests
{
    static readonly string[] LayerKeysQwen3 =
    [
        "self_attn.q_proj.weight", "self_attn.k_proj.weight", "self_attn.v_proj.weight", "self_attn.o_proj.weight",
        "self_attn.q_norm.weight", "self_attn.k_norm.weight",
        "mlp.gate_proj.weight", "mlp.up_proj.weight", "mlp.down_proj.weight",
        "input_layernorm.weight", "post_attention_layernorm.weight",
    ];

    [Fact]
    public void Qwen3_parameter_names_are_exactly_the_transformers_state_dict_keys()
    {
        using var model = TinyModels.Build();
        var names = model.named_parameters().Select(p => p.name).ToHashSet();
        var expected = new HashSet<string> { "model.embed_tokens.weight", "model.norm.weight" };
        for (int i = 0; i < 2; i++)
            foreach (var k in LayerKeysQwen3) expected.Add($"model.layers.{i}.{k}");
        Assert.Equal(expected.OrderBy(x => x), names.OrderBy(x => x));
        var shapes = model.named_parameters().ToDictionary(p => p.name, p => p.parameter.shape);
        Assert.Equal([64L, 32], shapes["model.layers.0.self_attn.q_proj.weight"]); // 4 heads × head_dim 16 ≠ hidden
        Assert.Equal([32L, 32], shapes["model.layers.0.self_attn.k_proj.weight"]); // 2 KV heads × 16
        Assert.Equal([32L, 64], shapes["model.layers.0.self_attn.o_proj.weight"]);
        Assert.Equal([16L], shapes["model.layers.1.self_attn.q_norm.weight"]);
    }

    [Fact]
    public void Qwen2_has_qkv_biases_no_qk_norm_and_an_untied_lm_head()
    {
        using var model = TinyModels.Build(TinyModels.Config(DecoderFamily.Qwen2, tied: false));
        var names = model.named_parameters().Select(p => p.name).ToList();
        Assert.Contains("model.layers.0.self_attn.q_proj.bias", names);
        Assert.Contains("model.layers.0.self_attn.v_proj.bias", names);
        Assert.DoesNotContain("model.layers.0.self_attn.o_proj.bias", names);
        Assert.DoesNotContain(names, n => n.Contains("q_norm"));
        Assert.Contains("lm_head.weight", names);
    }

    [Fact]
    public void Forward_returns_logits_of_the_vocabulary_and_only_the_last_when_asked()
    {
        using var model = TinyModels.Build();
        using var scope = torch.NewDisposeScope();
        var ids = torch.tensor(new long[] { 1, 5, 9, 200, 7, 3, 8, 100 }, [2, 4]);
        var all = model.Forward(ids).Logits;
        Assert.Equal([2L, 4, 300], all.shape);
        var last = model.Forward(ids, logitsToKeep: 1).Logits;
        Assert.Equal([2L, 1, 300], last.shape);
        Assert.True(torch.allclose(last, all.narrow(1, 3, 1), 1e-6, 1e-6));
        Assert.True(all.std().item<float>() > 0.1f, "logits should not be flat with std-0.2 weights");
    }

    [Fact]
    public void Replacing_a_slot_by_path_updates_forward_and_named_parameters()
    {
        using var model = TinyModels.Build();
        using var scope = torch.NewDisposeScope();
        var ids = torch.tensor(new long[] { 4, 8, 15, 16, 23, 42 }, [1, 6]);
        var before = model.Forward(ids).Logits;

        var path = "model.layers.1.mlp.up_proj";
        var old = model.GetLinear(path);
        var doubled = new ScaledSlot(old, 2.0);
        var returned = model.ReplaceLinear(path, doubled);
        Assert.Same(old, returned);
        Assert.Same(doubled, model.model.layers[1].DenseMlp!.up_proj);
        var names = model.named_parameters().Select(p => p.name).ToList();
        Assert.Contains("model.layers.1.mlp.up_proj.inner.weight", names);
        Assert.DoesNotContain("model.layers.1.mlp.up_proj.weight", names);
        // The registered order is kept: up_proj still sits between gate_proj and down_proj.
        Assert.Equal(["gate_proj", "up_proj", "down_proj"], model.model.layers[1].DenseMlp!.named_children().Select(c => c.name));
        Assert.False(torch.allclose(before, model.Forward(ids).Logits, 1e-4, 1e-4));

        model.ReplaceLinear(path, old);
        Assert.True(torch.allclose(before, model.Forward(ids).Logits, 1e-6, 1e-6));
        Assert.Equal(7 * 2, model.LinearPaths().Count());
    }

    [Fact]
    public void Replacing_with_a_wrong_shape_or_a_non_slot_path_fails_clearly()
    {
        using var model = TinyModels.Build();
        var wrong = new Linear(32, 7, false, ScalarType.Float32, CPU);
        var e = Assert.Throws<ArgumentException>(() => model.ReplaceLinear("model.layers.0.self_attn.q_proj", wrong));
        Assert.Contains("q_proj", e.Message);
        Assert.Throws<ArgumentException>(() => model.ReplaceLinear("model.layers.9.self_attn.q_proj", wrong));
        Assert.Throws<ArgumentException>(() => model.ReplaceLinear("model.layers.0.self_attn.q_norm", wrong));
        Assert.Throws<ArgumentException>(() => model.ReplaceLinear("model.norm", wrong));
    }

    [Fact]
    public void Labels_give_transformers_shifted_cross_entropy_ignoring_minus_100()
    {
        using var model = TinyModels.Build();
        using var scope = torch.NewDisposeScope();
        var ids = torch.tensor(new long[] { 4, 8, 15, 16, 23 }, [1, 5]);
        var labels = torch.tensor(new long[] { -100, -100, 15, 16, 23 }, [1, 5]);
        var output = model.Forward(ids, labels: labels);
        var logp = output.Logits.log_softmax(-1);
        // Positions 1, 2, 3 predict tokens 15, 16, 23 (position 0's target is label 1 = −100).
        var manual = -(logp[0, 1, 15] + logp[0, 2, 16] + logp[0, 3, 23]) / 3;
        Assert.Equal(manual.item<float>(), output.Loss!.item<float>(), 5);
        output.Loss!.backward();
        Assert.NotNull(model.model.embed_tokens.weight.grad);
    }

    [Fact]
    public void Bf16_forward_tracks_fp32()
    {
        using var f32 = TinyModels.Build();
        using var bf16 = TinyModels.Build(dtype: ScalarType.BFloat16);
        using var scope = torch.NewDisposeScope();
        var ids = torch.tensor(new long[] { 4, 8, 15, 16, 23, 42 }, [1, 6]);
        var a = f32.Forward(ids).Logits;
        var b = bf16.Forward(ids).Logits;
        Assert.Equal(ScalarType.BFloat16, b.dtype);
        var diff = (a - b.to(ScalarType.Float32)).abs().max().item<float>();
        Assert.True(diff < 0.15f * a.abs().max().item<float>(), $"bf16 differs by {diff}");
        Assert.Equal(a.argmax(-1).data<long>().ToArray(), b.to(ScalarType.Float32).argmax(-1).data<long>().ToArray());
    }

    /// <summary>A stand-in for a wrapper slot (LoRA-like): holds the original and scales its output.</summary>
    sealed class ScaledSlot : LinearSlot
    {
        public LinearSlot inner;
        readonly double _scale;

        public ScaledSlot(LinearSlot inner, double scale) : base(nameof(ScaledSlot))
        {
            this.inner = inner;
            _scale = scale;
        }

        public override long InFeatures => inner.InFeatures;
        public override long OutFeatures => inner.OutFeatures;
        public override Tensor forward(Tensor x) => inner.forward(x) * _scale;
        public override Tensor DenseWeight(ScalarType dtype) => inner.DenseWeight(dtype) * _scale;
    }
}

using RaftPipeline.Modeling.Config;
using RaftPipeline.Modeling.Families;

namespace RaftPipeline.Modeling.Tests.Config;

/// <summary>
/// How each family's config.json maps (through its <see cref="FamilyDescriptor"/>), in the layouts transformers 4.x
/// (rope_scaling, rope_theta top-level) and 5.x (rope_parameters) write, and how what is not implemented is refused:
/// file, key, value and the supported list in the message, never a silent fallback.
/// </summary>
public class FamilyConfigTests
{
    const string Common = """
      "vocab_size": 256, "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 3,
      "num_attention_heads": 4, "num_key_value_heads": 2, "rms_norm_eps": 1e-6, "max_position_embeddings": 512
    """;

    static ModelConfig Parse(string body) => ModelConfigReader.Parse("{" + Common + ", " + body + "}", "/m/config.json");

    static ModelConfigException Refused(string body) =>
        Assert.Throws<ModelConfigException>(() => Parse(body));

    [Fact]
    public void Llama_3_1_rope_scaling_in_the_4x_layout_maps_to_llama3_frequencies()
    {
        var c = Parse("""
          "model_type": "llama", "rope_theta": 500000.0,
          "rope_scaling": {"factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0, "original_max_position_embeddings": 8192, "rope_type": "llama3"}
        """);
        Assert.Equal(DecoderFamily.Llama, c.Family);
        Assert.Equal(500000.0, c.RopeTheta);
        Assert.Equal(new RopeScaling { Type = "llama3", Factor = 8, LowFreqFactor = 1, HighFreqFactor = 4, OriginalMaxPositionEmbeddings = 8192 }, c.RopeScaling);
        var again = ModelConfigReader.Parse(c.ToJson(), "written.json");
        Assert.Equal(c.RopeScaling, again.RopeScaling);
    }

    [Fact]
    public void Yarn_in_the_5x_layout_and_the_legacy_type_key_both_read()
    {
        var v5 = Parse("""
          "model_type": "qwen2", "rope_parameters": {"rope_type": "yarn", "rope_theta": 1000000.0, "factor": 4.0, "original_max_position_embeddings": 32768}
        """);
        var v4 = Parse("""
          "model_type": "qwen2", "rope_theta": 1000000.0, "rope_scaling": {"type": "yarn", "factor": 4.0, "original_max_position_embeddings": 32768}
        """);
        Assert.Equal("yarn", v5.RopeScaling!.Type);
        Assert.Equal(v5.RopeScaling, v4.RopeScaling);
        Assert.Equal(32768, v5.RopeScaling.OriginalMaxPositionEmbeddings);
    }

    [Fact]
    public void Gemma2_maps_its_constants_and_alternating_layers()
    {
        var c = Parse("""
          "model_type": "gemma2", "head_dim": 16, "rope_theta": 10000.0, "hidden_activation": "gelu_pytorch_tanh",
          "query_pre_attn_scalar": 24, "attn_logit_softcapping": 50.0, "final_logit_softcapping": 30.0, "sliding_window": 4096
        """);
        Assert.Equal(DecoderFamily.Gemma2, c.Family);
        Assert.True(c.TieWordEmbeddings); // Gemma's default
        Assert.Equal("gelu_pytorch_tanh", c.HiddenAct);
        Assert.Equal(1 / Math.Sqrt(24), c.AttentionScale, 12);
        Assert.Equal(50.0, c.AttnLogitSoftcapping);
        Assert.Equal(30.0, c.FinalLogitSoftcapping);
        Assert.Equal(["sliding_attention", "full_attention", "sliding_attention"], c.LayerTypes);
        Assert.True(c.IsSlidingLayer(0));
        Assert.False(c.IsSlidingLayer(1));
        Assert.Equal(1.0, c.Descriptor.NormWeightOffset);
        Assert.True(c.Descriptor.SandwichNorms && c.Descriptor.ScaleEmbeddings);
    }

    [Fact]
    public void Gemma3_text_reads_the_local_rope_base_in_both_layouts()
    {
        var v4 = Parse("""
          "model_type": "gemma3_text", "head_dim": 16, "rope_theta": 1000000.0, "rope_local_base_freq": 10000.0,
          "sliding_window": 512, "sliding_window_pattern": 3, "rope_scaling": {"rope_type": "linear", "factor": 8.0}
        """);
        Assert.Equal(10000.0, v4.RopeLocalTheta);
        Assert.Equal("linear", v4.RopeScaling!.Type);
        Assert.True(v4.QkNorm);
        var v5 = Parse("""
          "model_type": "gemma3_text", "head_dim": 16, "sliding_window": 512,
          "layer_types": ["sliding_attention", "sliding_attention", "full_attention"],
          "rope_parameters": {"full_attention": {"rope_type": "linear", "rope_theta": 1000000.0, "factor": 8.0},
                              "sliding_attention": {"rope_type": "default", "rope_theta": 10000.0}}
        """);
        Assert.Equal(1000000.0, v5.RopeTheta);
        Assert.Equal(10000.0, v5.RopeLocalTheta);
        Assert.Equal(v4.RopeScaling, v5.RopeScaling);
        Assert.Equal(v4.LayerTypes, v5.LayerTypes);
    }

    [Fact]
    public void Phi3_fuses_its_projections_and_rotates_part_of_each_head()
    {
        var c = Parse("""
          "model_type": "phi3", "rope_theta": 10000.0, "partial_rotary_factor": 0.75, "sliding_window": 2047,
          "resid_pdrop": 0.0, "embd_pdrop": 0.0, "attention_dropout": 0.0
        """);
        Assert.Equal(DecoderFamily.Phi3, c.Family);
        Assert.True(c.Descriptor.FusedProjections);
        Assert.Equal(6, c.RotaryDim); // int(8 · 0.75)
        Assert.Equal(2047, c.SlidingWindow);
        Assert.True(c.IsSlidingLayer(2));
    }

    [Fact]
    public void Phi_3_5_longrope_in_the_4x_layout_derives_its_factor_from_the_context_ratio()
    {
        var c = Parse("""
          "model_type": "phi3", "rope_theta": 10000.0, "original_max_position_embeddings": 128,
          "rope_scaling": {"type": "longrope", "short_factor": [1.0, 1.5, 2.0, 3.0], "long_factor": [1.0, 4.0, 9.0, 20.0]}
        """);
        var s = c.RopeScaling!;
        Assert.Equal("longrope", s.Type);
        Assert.Equal(4.0, s.Factor); // max_position_embeddings 512 / 128
        Assert.True(s.FactorDerived);
        Assert.Equal(128, s.OriginalMaxPositionEmbeddings);
        Assert.Equal([1.0, 1.5, 2.0, 3.0], s.ShortFactor!);
        Assert.Equal([1.0, 4.0, 9.0, 20.0], s.LongFactor!);
        Assert.Null(s.AttentionFactor);
    }

    [Fact]
    public void Phi_4_mini_longrope_in_the_5x_layout_with_partial_rotary_reads_the_options_inside_rope_parameters()
    {
        var c = Parse("""
          "model_type": "phi3", "original_max_position_embeddings": 999,
          "rope_parameters": {"rope_type": "longrope", "rope_theta": 10000.0, "partial_rotary_factor": 0.75,
            "original_max_position_embeddings": 64, "factor": 2.0, "attention_factor": 1.25,
            "short_factor": [1.0, 1.5, 2.0], "long_factor": [1.0, 4.0, 9.0]}
        """);
        var s = c.RopeScaling!;
        Assert.Equal(6, c.RotaryDim);
        Assert.Equal(64, s.OriginalMaxPositionEmbeddings); // the RoPE object's, not the top-level one
        Assert.Equal(2.0, s.Factor);
        Assert.False(s.FactorDerived);
        Assert.Equal(1.25, s.AttentionFactor);

        // Written back and read again: the same RoPE, the original context top-level too (transformers' Phi3 reads it there).
        var json = System.Text.Json.Nodes.JsonNode.Parse(c.ToJson())!;
        Assert.Equal(64, (int)json["original_max_position_embeddings"]!);
        var again = ModelConfigReader.Parse(c.ToJson(), "/m/config.json").RopeScaling!;
        Assert.Equal(s.ShortFactor, again.ShortFactor);
        Assert.Equal(s.LongFactor, again.LongFactor);
        Assert.Equal((s.Factor, s.AttentionFactor, s.OriginalMaxPositionEmbeddings), (again.Factor, again.AttentionFactor, again.OriginalMaxPositionEmbeddings));
    }

    [Fact]
    public void A_derived_longrope_factor_is_not_written_back()
    {
        var c = Parse("""
          "model_type": "phi3", "rope_theta": 10000.0, "original_max_position_embeddings": 128,
          "rope_scaling": {"type": "longrope", "short_factor": [1.0, 1.5, 2.0, 3.0], "long_factor": [1.0, 4.0, 9.0, 20.0]}
        """);
        var json = System.Text.Json.Nodes.JsonNode.Parse(c.ToJson())!;
        Assert.Null(json["rope_parameters"]!["factor"]);
        Assert.Equal(128, (int)json["rope_parameters"]!["original_max_position_embeddings"]!);
        Assert.Equal(4.0, ModelConfigReader.Parse(c.ToJson(), "/m/config.json").RopeScaling!.Factor);
    }

    [Theory]
    [InlineData("\"model_type\": \"gpt2\", \"rope_theta\": 1.0", "model_type", "'gpt2'")]
    [InlineData("\"model_type\": \"gemma3\", \"rope_theta\": 1.0", "model_type", "gemma3_text")]
    [InlineData("\"model_type\": \"llama\", \"rope_theta\": 1.0, \"rope_scaling\": {\"rope_type\": \"su\", \"short_factor\": [1], \"long_factor\": [1]}", "rope_type", "longrope")]
    [InlineData("\"model_type\": \"phi3\", \"rope_theta\": 1.0, \"original_max_position_embeddings\": 128, \"rope_scaling\": {\"type\": \"longrope\", \"short_factor\": [1], \"long_factor\": [1, 1, 1, 1]}", "rope_scaling.short_factor", "expected 4")]
    [InlineData("\"model_type\": \"phi3\", \"rope_theta\": 1.0, \"original_max_position_embeddings\": 128, \"rope_scaling\": {\"type\": \"longrope\", \"short_factor\": [1, 1, 1, 1]}", "rope_scaling.long_factor", "4 numbers each")]
    [InlineData("\"model_type\": \"phi3\", \"rope_theta\": 1.0, \"rope_scaling\": {\"type\": \"longrope\", \"short_factor\": [1, 1, 1, 1], \"long_factor\": [1, 1, 1, 1]}", "rope_scaling.original_max_position_embeddings", "pre-training context")]
    [InlineData("\"model_type\": \"phi3\", \"rope_theta\": 1.0, \"original_max_position_embeddings\": 128, \"rope_scaling\": {\"type\": \"longrope\", \"short_factor\": [1, 1, 1, 1], \"long_factor\": [1, 1, 1, 1], \"beta_fast\": 32}", "rope_scaling.beta_fast", "short_factor, long_factor")]
    [InlineData("\"model_type\": \"llama\", \"rope_theta\": 1.0, \"rope_scaling\": {\"rope_type\": \"llama3\", \"factor\": 8.0, \"low_freq_factor\": 1.0, \"high_freq_factor\": 4.0, \"original_max_position_embeddings\": 8192, \"rope_scale\": 2}", "rope_scaling.rope_scale", "low_freq_factor")]
    [InlineData("\"model_type\": \"llama\", \"rope_theta\": 1.0, \"rope_scaling\": {\"rope_type\": \"llama3\", \"factor\": 8.0}", "rope_type", "low_freq_factor")]
    [InlineData("\"model_type\": \"gemma2\", \"rope_theta\": 1.0, \"hidden_activation\": \"gelu\"", "hidden_activation", "gelu_pytorch_tanh")]
    [InlineData("\"model_type\": \"gemma2\", \"rope_theta\": 1.0, \"layer_types\": [\"full_attention\"]", "layer_types", "one per layer (3)")]
    [InlineData("\"model_type\": \"gemma2\", \"rope_theta\": 1.0, \"layer_types\": [\"full_attention\", \"chunked_attention\", \"full_attention\"]", "layer_types", "sliding_attention, full_attention")]
    [InlineData("\"model_type\": \"phi3\", \"rope_theta\": 1.0, \"resid_pdrop\": 0.1", "resid_pdrop", "0.0")]
    [InlineData("\"model_type\": \"mistral\", \"rope_theta\": 1.0, \"sliding_window\": 0", "sliding_window", "positive")]
    [InlineData("\"model_type\": \"qwen2\", \"rope_theta\": 1.0, \"use_sliding_window\": true", "use_sliding_window", "false")]
    [InlineData("\"model_type\": \"mistral\", \"rope_theta\": 1.0, \"hidden_act\": \"gelu\"", "hidden_act", "silu")]
    [InlineData("\"model_type\": \"qwen3_moe\", \"rope_theta\": 1.0, \"output_router_logits\": true", "output_router_logits", "supported: false")]
    [InlineData("\"model_type\": \"qwen3_moe\", \"rope_theta\": 1.0, \"shared_expert_intermediate_size\": 64", "shared_expert_intermediate_size", "supported: 0 or absent")]
    [InlineData("\"model_type\": \"qwen3_moe\", \"rope_theta\": 1.0, \"num_experts\": 4, \"num_experts_per_tok\": 5", "num_experts_per_tok", "supported: 1 to num_experts = 4")]
    [InlineData("\"model_type\": \"qwen3_moe\", \"rope_theta\": 1.0, \"mlp_only_layers\": [3]", "mlp_only_layers", "integers 0 to 2")]
    [InlineData("\"model_type\": \"qwen3_moe\", \"rope_theta\": 1.0, \"decoder_sparse_step\": 0", "decoder_sparse_step", "positive")]
    [InlineData("\"model_type\": \"qwen3_moe\", \"rope_theta\": 1.0, \"use_sliding_window\": true", "use_sliding_window", "false")]
    [InlineData("\"model_type\": \"qwen3_moe\", \"rope_theta\": 1.0, \"hidden_act\": \"gelu\"", "hidden_act", "silu")]
    public void What_is_not_implemented_is_refused_with_file_key_value_and_the_supported_list(string body, string key, string detail)
    {
        var e = Refused(body);
        Assert.Equal(key, e.Key);
        Assert.StartsWith("/m/config.json: ", e.Message);
        Assert.Contains(detail, e.Message);
    }

    [Fact]
    public void Qwen3_moe_reads_its_experts_in_both_layouts_and_writes_them_back()
    {
        // transformers 4.x writes num_experts; 5.x num_local_experts (num_experts is its alias).
        var v4 = Parse("""
          "model_type": "qwen3_moe", "rope_theta": 1000000.0, "num_experts": 8, "num_experts_per_tok": 2,
          "norm_topk_prob": true, "moe_intermediate_size": 16, "decoder_sparse_step": 2, "mlp_only_layers": [2]
        """);
        var v5 = Parse("""
          "model_type": "qwen3_moe", "rope_parameters": {"rope_type": "default", "rope_theta": 1000000.0}, "num_local_experts": 8,
          "num_experts_per_tok": 2, "norm_topk_prob": true, "moe_intermediate_size": 16, "decoder_sparse_step": 2, "mlp_only_layers": [2],
          "output_router_logits": false, "router_aux_loss_coef": 0.001
        """);
        Assert.Equal(DecoderFamily.Qwen3Moe, v4.Family);
        Assert.True(v4.QkNorm);
        var moe = v4.Moe!;
        Assert.Equal((8, 2, true, 16, 2), (moe.NumExperts, moe.NumExpertsPerTok, moe.NormTopkProb, moe.MoeIntermediateSize, moe.DecoderSparseStep));
        Assert.Equal([2], moe.MlpOnlyLayers);
        Assert.Equal([2], v5.Moe!.MlpOnlyLayers);
        Assert.Equal((8, 2, true, 16, 2), (v5.Moe.NumExperts, v5.Moe.NumExpertsPerTok, v5.Moe.NormTopkProb, v5.Moe.MoeIntermediateSize, v5.Moe.DecoderSparseStep));
        // Sparse where (i + 1) % step == 0 and i is not MLP-only: of layers 0, 1, 2 only 1.
        Assert.Equal([false, true, false], Enumerable.Range(0, 3).Select(v4.IsSparseLayer));
        var again = ModelConfigReader.Parse(v4.ToJson(), "written.json");
        Assert.Equal(8, again.Moe!.NumExperts);
        Assert.Equal([false, true, false], Enumerable.Range(0, 3).Select(again.IsSparseLayer));
        Assert.Contains("\"num_local_experts\": 8", v4.ToJson());
        // transformers' defaults when the keys are absent (configuration_qwen3_moe.py).
        var defaults = Parse("\"model_type\": \"qwen3_moe\", \"rope_theta\": 1.0").Moe!;
        Assert.Equal((128, 8, false, 768, 1), (defaults.NumExperts, defaults.NumExpertsPerTok, defaults.NormTopkProb, defaults.MoeIntermediateSize, defaults.DecoderSparseStep));
    }

    [Fact]
    public void The_unsupported_model_type_message_lists_every_family()
    {
        var e = Refused("\"model_type\": \"falcon\", \"rope_theta\": 1.0");
        foreach (var f in DecoderFamilies.All) Assert.Contains(f.ModelType, e.Message);
    }
}

using RaftPipeline.Modeling.Config;

namespace RaftPipeline.Modeling.Tests.Config;

public class ModelConfigReaderTests
{
    // The shape of Qwen3-4B-Instruct-2507 as transformers 5.x writes it (rope theta inside rope_parameters).
    const string Qwen3V5 = """
    {
      "architectures": ["Qwen3ForCausalLM"], "model_type": "qwen3", "attention_bias": false,
      "bos_token_id": 151643, "eos_token_id": 151645, "dtype": "bfloat16", "head_dim": 128,
      "hidden_act": "silu", "hidden_size": 2560, "intermediate_size": 9728, "max_position_embeddings": 262144,
      "num_attention_heads": 32, "num_hidden_layers": 36, "num_key_value_heads": 8, "rms_norm_eps": 1e-06,
      "rope_parameters": {"rope_theta": 5000000, "rope_type": "default"}, "tie_word_embeddings": true,
      "use_sliding_window": false, "vocab_size": 151936
    }
    """;

    [Fact]
    public void Qwen3_with_rope_parameters_of_transformers_5()
    {
        var c = ModelConfigReader.Parse(Qwen3V5, "config.json");
        Assert.Equal(DecoderFamily.Qwen3, c.Family);
        Assert.Equal(5_000_000, c.RopeTheta);
        Assert.Equal(128, c.HeadDim);
        Assert.Equal(8, c.NumKeyValueHeads);
        Assert.True(c.TieWordEmbeddings);
        Assert.True(c.QkNorm);
        Assert.False(c.QkvBias);
        Assert.Equal([151645], c.EosTokenIds);
        Assert.Equal("bfloat16", c.Dtype);
        Assert.Equal(1e-6, c.RmsNormEps);
    }

    [Fact]
    public void Rope_theta_top_level_as_transformers_4_writes_it()
    {
        var json = Qwen3V5.Replace("\"rope_parameters\": {\"rope_theta\": 5000000, \"rope_type\": \"default\"}", "\"rope_theta\": 1000000.0, \"rope_scaling\": null");
        Assert.Equal(1_000_000, ModelConfigReader.Parse(json, "config.json").RopeTheta);
    }

    [Fact]
    public void Qwen2_has_qkv_bias_and_no_qk_norm_and_head_dim_from_hidden_over_heads()
    {
        var json = """
        {"model_type": "qwen2", "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2,
         "num_attention_heads": 4, "num_key_value_heads": 2, "rms_norm_eps": 1e-6, "rope_theta": 10000.0,
         "vocab_size": 512, "eos_token_id": [1, 2]}
        """;
        var c = ModelConfigReader.Parse(json, "q2.json");
        Assert.Equal(DecoderFamily.Qwen2, c.Family);
        Assert.True(c.QkvBias);
        Assert.False(c.OutputBias);
        Assert.False(c.QkNorm);
        Assert.Equal(16, c.HeadDim);
        Assert.False(c.TieWordEmbeddings);
        Assert.Equal([1, 2], c.EosTokenIds);
    }

    [Fact]
    public void Llama_follows_attention_bias_and_mlp_bias_and_defaults_kv_heads_to_heads()
    {
        var json = """
        {"model_type": "llama", "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2,
         "num_attention_heads": 4, "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "vocab_size": 512,
         "attention_bias": true, "mlp_bias": true}
        """;
        var c = ModelConfigReader.Parse(json, "llama.json");
        Assert.Equal(4, c.NumKeyValueHeads);
        Assert.True(c.QkvBias);
        Assert.True(c.OutputBias);
        Assert.True(c.MlpBias);
        Assert.False(c.QkNorm);
    }

    [Theory]
    [InlineData("\"model_type\": \"qwen3\"", "\"model_type\": \"gpt2\"", "model_type", "gpt2")]
    [InlineData("\"hidden_size\": 2560,", "", "hidden_size", "missing")]
    [InlineData("\"vocab_size\": 151936", "\"vocab_size\": \"big\"", "vocab_size", "expected an integer")]
    [InlineData("\"rope_parameters\": {\"rope_theta\": 5000000, \"rope_type\": \"default\"},", "", "rope_theta", "rope_parameters.rope_theta")]
    [InlineData("\"rope_type\": \"default\"", "\"rope_type\": \"yarn\"", "rope_type", "yarn")]
    [InlineData("\"hidden_act\": \"silu\"", "\"hidden_act\": \"gelu\"", "hidden_act", "gelu")]
    [InlineData("\"num_key_value_heads\": 8", "\"num_key_value_heads\": 5", "num_key_value_heads", "divide")]
    public void Bad_configs_name_the_key_and_the_file(string find, string replace, string key, string detail)
    {
        var json = Qwen3V5.Replace(find, replace);
        Assert.NotEqual(Qwen3V5, json);
        var e = Assert.Throws<ModelConfigException>(() => ModelConfigReader.Parse(json, "/m/config.json"));
        Assert.Equal(key, e.Key);
        Assert.StartsWith("/m/config.json: ", e.Message);
        Assert.Contains(detail, e.Message);
    }

    [Fact]
    public void ToJson_round_trips_through_the_reader()
    {
        var c = ModelConfigReader.Parse(Qwen3V5, "config.json");
        var again = ModelConfigReader.Parse(c.ToJson(), "written.json");
        Assert.Equal(c with { }, again with { EosTokenIds = c.EosTokenIds });
        Assert.Equal(c.EosTokenIds, again.EosTokenIds);
        Assert.Contains("\"rope_parameters\"", c.ToJson());
    }
}

using System.Text.Json.Nodes;
using RaftPipeline.Modeling.Adapters;
using RaftPipeline.Modeling.Tests.Support;

namespace RaftPipeline.Modeling.Tests.Adapters;

/// <summary>adapter_config.json options we cannot reproduce are refused, naming the file, the key and what is expected.</summary>
public class AdapterConfigTests
{
    static JsonObject PeftDefaults() => new()
    {
        ["peft_type"] = "LORA", ["r"] = 4, ["lora_alpha"] = 8, ["lora_dropout"] = 0.0, ["bias"] = "none",
        ["target_modules"] = new JsonArray("q_proj", "v_proj"), ["use_dora"] = false, ["use_rslora"] = false,
        ["modules_to_save"] = null, ["layers_to_transform"] = null, ["layers_pattern"] = null, ["exclude_modules"] = null,
        ["layer_replication"] = null, ["rank_pattern"] = new JsonObject(), ["alpha_pattern"] = new JsonObject(),
    };

    static string Write(TempDir dir, JsonObject config)
    {
        var path = Path.Combine(dir.Path, AdapterConfig.FileName);
        File.WriteAllText(path, config.ToJsonString());
        return path;
    }

    [Fact]
    public void Peft_defaults_with_their_nulls_and_empty_lists_are_read()
    {
        using var dir = new TempDir();
        var config = PeftDefaults();
        config["exclude_modules"] = new JsonArray();
        var read = AdapterConfig.Read(Write(dir, config));
        Assert.Equal(4, read.Lora.R);
        Assert.Equal(2.0, read.Lora.Scaling);
        Assert.True(read.Lora.Targets.Matches("model.layers.0.self_attn.q_proj", isOutputEmbedding: false));
        Assert.False(read.Lora.Targets.Matches("model.layers.0.self_attn.k_proj", isOutputEmbedding: false));
    }

    [Theory]
    [InlineData("modules_to_save", "[\"lm_head\"]")]
    [InlineData("layers_to_transform", "[0, 1]")]
    [InlineData("layers_to_transform", "3")]
    [InlineData("layers_pattern", "\"layers\"")]
    [InlineData("exclude_modules", "[\"v_proj\"]")]
    [InlineData("layer_replication", "[[0, 2]]")]
    [InlineData("use_dora", "true")]
    [InlineData("rank_pattern", "{\"q_proj\": 8}")]
    [InlineData("bias", "\"all\"")]
    public void An_option_that_changes_what_peft_adapts_is_refused(string key, string json)
    {
        using var dir = new TempDir();
        var config = PeftDefaults();
        config[key] = JsonNode.Parse(json);
        var path = Write(dir, config);
        var e = Assert.Throws<InvalidDataException>(() => AdapterConfig.Read(path));
        Assert.StartsWith($"{path}: \"{key}\" is ", e.Message);
        Assert.Contains("(not supported)", e.Message);
    }
}

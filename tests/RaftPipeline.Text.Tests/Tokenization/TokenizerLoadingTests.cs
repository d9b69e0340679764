using System.Text.Json.Nodes;
using RaftPipeline.Text.Tokenization;

namespace RaftPipeline.Text.Tests.Tokenization;

/// <summary>Loading tokenizer.json/tokenizer_config.json: what is supported works, the rest is a clear error
/// naming the file and where in it.</summary>
public class TokenizerLoadingTests
{
    const string File = "models/tiny/tokenizer.json";
    const string ConfigFile = "models/tiny/tokenizer_config.json";

    static HuggingFaceTokenizer Load(JsonNode tokenizer, string? config = null) =>
        HuggingFaceTokenizer.FromStreams(TinyTokenizerJson.Stream(tokenizer), File,
            config is null ? null : TinyTokenizerJson.Stream(config), ConfigFile);

    [Fact]
    public void Template_post_processor_adds_bos_unless_asked_not_to()
    {
        var tokenizer = Load(TinyTokenizerJson.Create());
        Assert.Equal([5, 2, 4], tokenizer.Encode("ab ab"));
        Assert.Equal([2, 4], tokenizer.Encode("ab ab", addSpecialTokens: false));
        Assert.Equal("<s>ab ab", tokenizer.Decode([5, 2, 4]));
        Assert.Equal("ab ab", tokenizer.Decode([5, 2, 4], skipSpecialTokens: true));
    }

    [Fact]
    public void Config_add_bos_and_add_eos_override_the_post_processor()
    {
        var tokenizer = Load(TinyTokenizerJson.Create(),
            """{"bos_token": {"content": "<s>", "__type": "AddedToken"}, "eos_token": "</s>", "add_bos_token": false, "add_eos_token": true}""");
        Assert.Equal(6, tokenizer.EosTokenId);
        Assert.Equal(5, tokenizer.BosTokenId);
        Assert.Equal([2, 6], tokenizer.Encode("ab"));
    }

    [Fact]
    public void Split_special_tokens_reads_them_as_text()
    {
        var tokenizer = Load(TinyTokenizerJson.Create(), """{"split_special_tokens": true, "add_bos_token": false}""");
        Assert.DoesNotContain(5, tokenizer.Encode("<s>ab"));
    }

    public static TheoryData<string, string, string> Unsupported => new()
    {
        { "$.model.type", "Unigram", "model type \"Unigram\" is not supported" },
        { "$.model.type", "WordPiece", "model type \"WordPiece\" is not supported" },
        { "$.normalizer.type", "NFKC", "normalizer \"NFKC\" is not supported" },
        { "$.pre_tokenizer.pretokenizers[0].type", "Metaspace", "pre-tokenizer \"Metaspace\" is not supported" },
        { "$.pre_tokenizer.pretokenizers[0].behavior", "Removed", "Split behavior \"Removed\" is not supported" },
        { "$.pre_tokenizer.pretokenizers[0].pattern", @"\w+", "'\\w'" },
        { "$.decoder.type", "Metaspace", "decoder \"Metaspace\" is not supported" },
        { "$.post_processor.processors[1].type", "RobertaProcessing", "post-processor \"RobertaProcessing\" is not supported" },
        { "$.added_tokens[1].lstrip", "true", "lstrip=true is not supported" },
        { "$.model.dropout", "0.1", "BPE dropout" },
    };

    [Theory]
    [MemberData(nameof(Unsupported))]
    public void Unsupported_pieces_name_the_file_and_json_path(string jsonPath, string value, string expected)
    {
        var json = TinyTokenizerJson.Create();
        Set(json, jsonPath, value);
        var error = Assert.Throws<TokenizerFormatException>(() => Load(json));
        Assert.Equal(File, error.FilePath);
        Assert.Equal(jsonPath, error.JsonPath);
        Assert.Contains(expected, error.Message);
        Assert.StartsWith($"{File}: {jsonPath}: ", error.Message);
    }

    [Fact]
    public void A_merge_of_unknown_tokens_names_the_merge()
    {
        var json = TinyTokenizerJson.Create();
        json["model"]!["merges"] = new JsonArray(new JsonArray("a", "z"));
        var error = Assert.Throws<TokenizerFormatException>(() => Load(json));
        Assert.Equal("$.model.merges[0]", error.JsonPath);
        Assert.Contains("\"z\" is not in model.vocab", error.Message);
    }

    [Fact]
    public void A_missing_key_names_its_parent()
    {
        var json = TinyTokenizerJson.Create();
        json["model"]!.AsObject().Remove("vocab");
        var error = Assert.Throws<TokenizerFormatException>(() => Load(json));
        Assert.Equal("$.model", error.JsonPath);
        Assert.Contains("missing the required key 'vocab'", error.Message);
    }

    [Fact]
    public void Malformed_json_names_the_line_and_position()
    {
        const string broken = "{\n  \"model\": {\n    \"type\": \"BPE\",,\n  }\n}";
        var error = Assert.Throws<TokenizerFormatException>(() =>
            HuggingFaceTokenizer.FromStreams(TinyTokenizerJson.Stream(broken), File, null, ConfigFile));
        Assert.Equal(3, error.Line);
        Assert.Equal(19, error.Position);
        Assert.StartsWith($"{File}: line 3, position 19: malformed JSON", error.Message);
    }

    [Fact]
    public void Malformed_config_names_the_config_file()
    {
        var error = Assert.Throws<TokenizerFormatException>(() => Load(TinyTokenizerJson.Create(), "{\"eos_token\": }"));
        Assert.Equal(ConfigFile, error.FilePath);
        Assert.Equal(1, error.Line);
    }

    [Fact]
    public void A_config_token_missing_from_the_vocabulary_is_named()
    {
        var error = Assert.Throws<TokenizerFormatException>(() => Load(TinyTokenizerJson.Create(), """{"eos_token": "<|eot|>"}"""));
        Assert.Equal("$.eos_token", error.JsonPath);
        Assert.Contains("<|eot|>", error.Message);
    }

    [Fact]
    public void A_folder_without_tokenizer_json_is_named()
    {
        var folder = Directory.CreateTempSubdirectory("raft-tok-").FullName;
        try
        {
            var error = Assert.Throws<FileNotFoundException>(() => HuggingFaceTokenizer.FromDirectory(folder));
            Assert.Contains(Path.Combine(folder, "tokenizer.json"), error.Message);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void Loading_from_the_committed_qwen3_folder_equals_the_embedded_copy()
    {
        var fromFolder = HuggingFaceTokenizer.FromDirectory(TokenizerTestFiles.Qwen3Directory);
        const string text = "그것도 몰라? 여기 <think>x</think> 1234";
        Assert.Equal(TokenizerTestFiles.Qwen3.Encode(text), fromFolder.Encode(text));
    }

    /// <summary>Sets the value at a simple JSON path ($.a.b[1].c); "true" becomes a boolean.</summary>
    static void Set(JsonNode root, string jsonPath, string value)
    {
        var parts = jsonPath[2..].Replace("[", ".[").Split('.');
        JsonNode node = root;
        for (var k = 0; k < parts.Length - 1; k++) node = Step(node, parts[k]);
        var last = parts[^1];
        JsonNode? newValue = value == "true" ? JsonValue.Create(true) : JsonValue.Create(value);
        if (last == "pattern") newValue = new JsonObject { ["Regex"] = value };
        node[last] = newValue;
    }

    static JsonNode Step(JsonNode node, string part) =>
        part.StartsWith('[') ? node[int.Parse(part[1..^1])]! : node[part] ??= new JsonObject();
}

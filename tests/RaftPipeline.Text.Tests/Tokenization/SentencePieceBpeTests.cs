using System.Text.Json.Nodes;
using RaftPipeline.Text.Tokenization;

namespace RaftPipeline.Text.Tests.Tokenization;

/// <summary>SentencePiece-style BPE in tokenizer.json (Llama 2, Mistral v0.1): "▁" for spaces prepended to every
/// stretch between added tokens, characters outside the vocabulary as &lt;0xNN&gt; byte tokens, and the
/// Replace/ByteFallback/Fuse/Strip decoder.</summary>
public class SentencePieceBpeTests
{
    const string File = "models/llama2-tiny/tokenizer.json";

    /// <summary>ids 0-2 &lt;unk&gt; &lt;s&gt; &lt;/s&gt;, 3-258 the byte tokens, then ▁ h i ▁h hi ▁hi.</summary>
    static JsonObject Json()
    {
        var vocab = new JsonObject { ["<unk>"] = 0, ["<s>"] = 1, ["</s>"] = 2 };
        for (var b = 0; b < 256; b++) vocab[$"<0x{b:X2}>"] = 3 + b;
        var next = 259;
        foreach (var piece in (string[])["▁", "h", "i", "▁h", "hi", "▁hi"]) vocab[piece] = next++;
        return new JsonObject
        {
            ["version"] = "1.0",
            ["truncation"] = null,
            ["padding"] = null,
            ["added_tokens"] = new JsonArray(Added(0, "<unk>"), Added(1, "<s>"), Added(2, "</s>")),
            ["normalizer"] = new JsonObject
            {
                ["type"] = "Sequence",
                ["normalizers"] = new JsonArray(
                    new JsonObject { ["type"] = "Prepend", ["prepend"] = "▁" },
                    new JsonObject { ["type"] = "Replace", ["pattern"] = new JsonObject { ["String"] = " " }, ["content"] = "▁" }),
            },
            ["pre_tokenizer"] = null,
            ["post_processor"] = new JsonObject
            {
                ["type"] = "TemplateProcessing",
                ["single"] = new JsonArray(
                    new JsonObject { ["SpecialToken"] = new JsonObject { ["id"] = "<s>", ["type_id"] = 0 } },
                    new JsonObject { ["Sequence"] = new JsonObject { ["id"] = "A", ["type_id"] = 0 } }),
                ["pair"] = new JsonArray(),
                ["special_tokens"] = new JsonObject
                {
                    ["<s>"] = new JsonObject { ["id"] = "<s>", ["ids"] = new JsonArray(1), ["tokens"] = new JsonArray("<s>") },
                },
            },
            ["decoder"] = new JsonObject
            {
                ["type"] = "Sequence",
                ["decoders"] = new JsonArray(
                    new JsonObject { ["type"] = "Replace", ["pattern"] = new JsonObject { ["String"] = "▁" }, ["content"] = " " },
                    new JsonObject { ["type"] = "ByteFallback" },
                    new JsonObject { ["type"] = "Fuse" },
                    new JsonObject { ["type"] = "Strip", ["content"] = " ", ["start"] = 1, ["stop"] = 0 }),
            },
            ["model"] = new JsonObject
            {
                ["type"] = "BPE",
                ["dropout"] = null,
                ["unk_token"] = "<unk>",
                ["continuing_subword_prefix"] = null,
                ["end_of_word_suffix"] = null,
                ["fuse_unk"] = true,
                ["byte_fallback"] = true,
                ["ignore_merges"] = false,
                ["vocab"] = vocab,
                ["merges"] = new JsonArray(new JsonArray("▁", "h"), new JsonArray("h", "i"), new JsonArray("▁h", "i")),
            },
        };
    }

    static JsonObject Added(int id, string content) => new()
    {
        ["id"] = id, ["content"] = content, ["single_word"] = false, ["lstrip"] = false, ["rstrip"] = false,
        ["normalized"] = false, ["special"] = true,
    };

    static HuggingFaceTokenizer Load(JsonNode json) =>
        HuggingFaceTokenizer.FromStreams(TinyTokenizerJson.Stream(json), File, null, "none");

    const int Space = 259, H = 260, I = 261, SpaceH = 262, Hi = 263, SpaceHi = 264;

    [Fact]
    public void Spaces_become_the_metaspace_and_every_stretch_starts_with_one()
    {
        var tokenizer = Load(Json());
        Assert.False(tokenizer.Definition.ByteLevel);
        Assert.Equal([1, SpaceHi], tokenizer.Encode("hi"));
        Assert.Equal([SpaceHi, SpaceHi], tokenizer.Encode("hi hi", addSpecialTokens: false));
        // Prepend applies to the text after an added token too, and a leading space gives two "▁".
        Assert.Equal([SpaceHi, 2, SpaceHi], tokenizer.Encode("hi</s>hi", addSpecialTokens: false));
        Assert.Equal([Space, SpaceHi], tokenizer.Encode(" hi", addSpecialTokens: false));
        Assert.Empty(tokenizer.Encode("", addSpecialTokens: false));
    }

    [Fact]
    public void Characters_outside_the_vocabulary_become_their_utf8_bytes()
    {
        var tokenizer = Load(Json());
        // "é" is C3 A9, "한" is ED 95 9C; byte token id = 3 + byte.
        Assert.Equal([SpaceH, 3 + 0xC3, 3 + 0xA9, I], tokenizer.Encode("héi", addSpecialTokens: false));
        Assert.Equal([Space, 3 + 0xED, 3 + 0x95, 3 + 0x9C, Hi], tokenizer.Encode("한hi", addSpecialTokens: false));
    }

    [Fact]
    public void Without_byte_fallback_unknown_characters_fuse_into_one_unknown_token()
    {
        var json = Json();
        json["model"]!["byte_fallback"] = false;
        Assert.Equal([SpaceH, 0, I], Load(json).Encode("héé i".Replace(" ", ""), addSpecialTokens: false));
        json["model"]!["fuse_unk"] = false;
        Assert.Equal([SpaceH, 0, 0, I], Load(json).Encode("hééi", addSpecialTokens: false));
    }

    [Fact]
    public void Decode_replaces_the_metaspace_joins_bytes_and_strips_one_leading_space()
    {
        var tokenizer = Load(Json());
        Assert.Equal("hi hi", tokenizer.Decode([SpaceHi, SpaceHi]));
        Assert.Equal("<s> hi", tokenizer.Decode([1, SpaceHi]));
        Assert.Equal("hi", tokenizer.Decode([1, SpaceHi], skipSpecialTokens: true));
        Assert.Equal("héi", tokenizer.Decode([SpaceH, 3 + 0xC3, 3 + 0xA9, I]));
        // A run of bytes that is not UTF-8 gives one U+FFFD per byte.
        Assert.Equal("h\uFFFD\uFFFDi", tokenizer.Decode([SpaceH, 3 + 0xC3, 3 + 0xC3, I]));
        Assert.Equal("한 hi", tokenizer.Decode(tokenizer.Encode("한 hi", addSpecialTokens: false)));
        // Not a round trip after an added token: the stretch after it was given its own "▁" (as in Llama 2).
        Assert.Equal("hi</s> hi", tokenizer.Decode(tokenizer.Encode("hi</s>hi", addSpecialTokens: false)));
    }

    [Fact]
    public void A_merge_of_a_byte_token_is_refused_with_its_path()
    {
        var json = Json();
        json["model"]!["vocab"]!["<0x41>h"] = 300;
        json["model"]!["merges"]!.AsArray().Add(new JsonArray("<0x41>", "h"));
        var error = Assert.Throws<TokenizerFormatException>(() => Load(json));
        Assert.Equal("$.model.merges[3]", error.JsonPath);
        Assert.Contains("byte fallback token \"<0x41>\"", error.Message);
    }

    [Theory]
    [InlineData("$.pre_tokenizer", """{"type": "Metaspace", "replacement": "▁", "prepend_scheme": "first", "split": false}""", "pre-tokenizer \"Metaspace\" is not supported")]
    [InlineData("$.decoder", """{"type": "Metaspace", "replacement": "▁", "prepend_scheme": "always", "split": true}""", "decoder \"Metaspace\" is not supported")]
    [InlineData("$.decoder", """{"type": "ByteLevel"}""", "decoder \"ByteLevel\" without a ByteLevel pre-tokenizer")]
    [InlineData("$.normalizer", """{"type": "Replace", "pattern": {"Regex": " +"}, "content": "▁"}""", "a Regex pattern is not supported")]
    public void Unsupported_sentencepiece_pieces_name_the_file_and_path(string key, string value, string expected)
    {
        var json = Json();
        json[key[2..]] = JsonNode.Parse(value);
        var error = Assert.Throws<TokenizerFormatException>(() => Load(json));
        Assert.Equal(File, error.FilePath);
        Assert.StartsWith(key, error.JsonPath);
        Assert.Contains(expected, error.Message);
    }
}

using System.Text;
using System.Text.Json.Nodes;

namespace RaftPipeline.Text.Tests.Tokenization;

/// <summary>A minimal byte-level BPE tokenizer.json (Llama 3's shape: Split + ByteLevel, a BOS template),
/// written here to be bent into each unsupported or broken variant.</summary>
internal static class TinyTokenizerJson
{
    public const string Pattern = @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    public static JsonObject Create() => new()
    {
        ["version"] = "1.0",
        ["truncation"] = null,
        ["padding"] = null,
        ["added_tokens"] = new JsonArray(
            AddedToken(5, "<s>", special: true),
            AddedToken(6, "</s>", special: true)),
        ["normalizer"] = null,
        ["pre_tokenizer"] = new JsonObject
        {
            ["type"] = "Sequence",
            ["pretokenizers"] = new JsonArray(
                new JsonObject { ["type"] = "Split", ["pattern"] = new JsonObject { ["Regex"] = Pattern }, ["behavior"] = "Isolated", ["invert"] = false },
                new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["trim_offsets"] = true, ["use_regex"] = false }),
        },
        ["post_processor"] = new JsonObject
        {
            ["type"] = "Sequence",
            ["processors"] = new JsonArray(
                new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = true, ["trim_offsets"] = false, ["use_regex"] = true },
                new JsonObject
                {
                    ["type"] = "TemplateProcessing",
                    ["single"] = new JsonArray(
                        new JsonObject { ["SpecialToken"] = new JsonObject { ["id"] = "<s>", ["type_id"] = 0 } },
                        new JsonObject { ["Sequence"] = new JsonObject { ["id"] = "A", ["type_id"] = 0 } }),
                    ["pair"] = new JsonArray(),
                    ["special_tokens"] = new JsonObject
                    {
                        ["<s>"] = new JsonObject { ["id"] = "<s>", ["ids"] = new JsonArray(5), ["tokens"] = new JsonArray("<s>") },
                    },
                }),
        },
        ["decoder"] = new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = true, ["trim_offsets"] = true, ["use_regex"] = true },
        ["model"] = new JsonObject
        {
            ["type"] = "BPE",
            ["dropout"] = null,
            ["unk_token"] = null,
            ["continuing_subword_prefix"] = null,
            ["end_of_word_suffix"] = null,
            ["fuse_unk"] = false,
            ["byte_fallback"] = false,
            ["ignore_merges"] = false,
            ["vocab"] = new JsonObject { ["a"] = 0, ["b"] = 1, ["ab"] = 2, ["Ġ"] = 3, ["Ġab"] = 4 },
            ["merges"] = new JsonArray(new JsonArray("a", "b"), new JsonArray("Ġ", "ab")),
        },
    };

    static JsonObject AddedToken(int id, string content, bool special) => new()
    {
        ["id"] = id, ["content"] = content, ["single_word"] = false, ["lstrip"] = false, ["rstrip"] = false,
        ["normalized"] = false, ["special"] = special,
    };

    public static MemoryStream Stream(JsonNode node) => new(Encoding.UTF8.GetBytes(node.ToJsonString()));

    public static MemoryStream Stream(string text) => new(Encoding.UTF8.GetBytes(text));
}

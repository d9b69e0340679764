using System.Text.Json.Nodes;

namespace RaftPipeline.Export.Tests.Support;

/// <summary>
/// The tokenizer.json of a byte-level BPE (Qwen's and Llama 3's shape: one regex split, then ByteLevel) that the test
/// folders are given; each builder chooses its vocabulary, merges, specials and post-processor.
/// </summary>
static class ByteLevelTokenizerJson
{
    public static JsonObject Special(int id, string content) => new()
    {
        ["id"] = id, ["content"] = content, ["single_word"] = false, ["lstrip"] = false,
        ["rstrip"] = false, ["normalized"] = false, ["special"] = true,
    };

    public static JsonObject ByteLevel() => new() { ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["trim_offsets"] = false, ["use_regex"] = false };

    /// <summary>A post-processor that prepends <paramref name="bosToken"/> (id <paramref name="bosId"/>) to every sequence.</summary>
    public static JsonObject PrependBos(string bosToken, int bosId) => new()
    {
        ["type"] = "TemplateProcessing",
        ["single"] = new JsonArray(new JsonObject { ["SpecialToken"] = new JsonObject { ["id"] = bosToken, ["type_id"] = 0 } },
            new JsonObject { ["Sequence"] = new JsonObject { ["id"] = "A", ["type_id"] = 0 } }),
        ["pair"] = new JsonArray(new JsonObject { ["SpecialToken"] = new JsonObject { ["id"] = bosToken, ["type_id"] = 0 } },
            new JsonObject { ["Sequence"] = new JsonObject { ["id"] = "A", ["type_id"] = 0 } },
            new JsonObject { ["SpecialToken"] = new JsonObject { ["id"] = bosToken, ["type_id"] = 1 } },
            new JsonObject { ["Sequence"] = new JsonObject { ["id"] = "B", ["type_id"] = 1 } }),
        ["special_tokens"] = new JsonObject { [bosToken] = new JsonObject { ["id"] = bosToken, ["ids"] = new JsonArray(bosId), ["tokens"] = new JsonArray(bosToken) } },
    };

    public static JsonObject Build(JsonArray added, string split, JsonNode postProcessor, bool ignoreMerges, JsonObject vocab, JsonArray merges) => new()
    {
        ["version"] = "1.0",
        ["truncation"] = null,
        ["padding"] = null,
        ["added_tokens"] = added,
        ["normalizer"] = null,
        ["pre_tokenizer"] = new JsonObject
        {
            ["type"] = "Sequence",
            ["pretokenizers"] = new JsonArray(
                new JsonObject { ["type"] = "Split", ["pattern"] = new JsonObject { ["Regex"] = split }, ["behavior"] = "Isolated", ["invert"] = false },
                ByteLevel()),
        },
        ["post_processor"] = postProcessor,
        ["decoder"] = ByteLevel(),
        ["model"] = new JsonObject
        {
            ["type"] = "BPE", ["dropout"] = null, ["unk_token"] = null, ["continuing_subword_prefix"] = null,
            ["end_of_word_suffix"] = null, ["fuse_unk"] = false, ["byte_fallback"] = false, ["ignore_merges"] = ignoreMerges,
            ["vocab"] = vocab, ["merges"] = merges,
        },
    };
}

using System.Text.Json.Nodes;
using RaftPipeline.Text.Tokenization;

namespace RaftPipeline.Text.Tests.Tokenization;

/// <summary>Gemma's released tokenizer.json splits on " " (MergedWithPrevious) after a normalizer that replaced every
/// space by "▁": a split with nothing to split, read as none. Where a space could remain, it is still refused.</summary>
public class NoOpSpaceSplitTests
{
    static readonly JsonObject s_split = new()
    {
        ["type"] = "Split", ["pattern"] = new JsonObject { ["String"] = " " }, ["behavior"] = "MergedWithPrevious", ["invert"] = false,
    };

    static JsonObject GemmaFixture()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "RaftPipeline.sln"))) dir = dir.Parent;
        var path = Path.Combine(dir!.FullName, "tests", "RaftPipeline.Modeling.Tests", "Fixtures", "families", "gemma2", "model", "tokenizer.json");
        return JsonNode.Parse(File.ReadAllText(path))!.AsObject();
    }

    static HuggingFaceTokenizer Load(JsonNode tokenizer) =>
        HuggingFaceTokenizer.FromStreams(TinyTokenizerJson.Stream(tokenizer), "gemma/tokenizer.json", null, "gemma/tokenizer_config.json");

    [Fact]
    public void A_space_split_after_spaces_were_replaced_is_read_as_none_and_changes_nothing()
    {
        var plain = Load(GemmaFixture());
        var withSplit = GemmaFixture();
        withSplit["pre_tokenizer"] = s_split.DeepClone();
        var split = Load(withSplit);
        Assert.Empty(split.Definition.SplitPatterns);
        foreach (var text in new[] { "Hello world", "  two  spaces ", "a\nb c<start_of_turn>user the model", " " })
            Assert.Equal(plain.Encode(text), split.Encode(text));
    }

    [Fact]
    public void A_space_split_where_spaces_remain_is_still_refused()
    {
        var tokenizer = GemmaFixture();
        tokenizer["pre_tokenizer"] = s_split.DeepClone();
        tokenizer["normalizer"] = null;
        var e = Assert.Throws<TokenizerFormatException>(() => Load(tokenizer));
        Assert.Contains("Split behavior \"MergedWithPrevious\" is not supported", e.Message);
    }
}

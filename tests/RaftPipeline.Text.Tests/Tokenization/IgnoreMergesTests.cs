using System.Text.Json.Nodes;
using RaftPipeline.Text.Tokenization;

namespace RaftPipeline.Text.Tests.Tokenization;

/// <summary>model.ignore_merges (Llama 3): a pre-token found whole in the vocabulary is one token, even where
/// the merges would never build it; plain BPE reaches only what the merges build.</summary>
public class IgnoreMergesTests
{
    const string File = "models/llama3-tiny/tokenizer.json";

    /// <summary>The tiny Llama-3-shaped file plus words no merge builds: "bab" (merges give b + ab) and
    /// "Ġbab" (the Split regex keeps a leading space with the letters; merges give Ġ + b + ab).</summary>
    static JsonObject Json(bool ignoreMerges)
    {
        var json = TinyTokenizerJson.Create();
        var vocab = json["model"]!["vocab"]!.AsObject();
        vocab["bab"] = 7;
        vocab["Ġbab"] = 8;
        json["model"]!["ignore_merges"] = ignoreMerges;
        return json;
    }

    static HuggingFaceTokenizer Load(JsonNode json) =>
        HuggingFaceTokenizer.FromStreams(TinyTokenizerJson.Stream(json), File, null, "none");

    [Fact]
    public void Plain_bpe_splits_a_vocabulary_word_that_no_merge_builds()
    {
        var tokenizer = Load(Json(ignoreMerges: false));
        Assert.Equal([1, 2], tokenizer.Encode("bab", addSpecialTokens: false));
        Assert.Equal([1, 2, 3, 1, 2], tokenizer.Encode("bab bab", addSpecialTokens: false));
    }

    [Fact]
    public void Ignore_merges_takes_the_whole_word_from_the_vocabulary()
    {
        var tokenizer = Load(Json(ignoreMerges: true));
        Assert.True(tokenizer.Definition.IgnoreMerges);
        Assert.Equal([7], tokenizer.Encode("bab", addSpecialTokens: false));
        // " bab" is one pre-token ("Ġbab" in byte-level form).
        Assert.Equal([7, 8], tokenizer.Encode("bab bab", addSpecialTokens: false));
        Assert.Equal("bab bab", tokenizer.Decode([7, 8]));
    }

    [Fact]
    public void Ignore_merges_still_merges_words_missing_from_the_vocabulary()
    {
        var shortcut = Load(Json(ignoreMerges: true));
        var plain = Load(Json(ignoreMerges: false));
        // "abab" and " abb" are not vocabulary entries: both take the merges.
        foreach (var text in (string[])["abab", "ab abb", "ba"])
            Assert.Equal(plain.Encode(text, addSpecialTokens: false), shortcut.Encode(text, addSpecialTokens: false));
        Assert.Equal([2, 2], shortcut.Encode("abab", addSpecialTokens: false));
    }

    [Fact]
    public void Ignore_merges_keeps_added_tokens_and_the_template_bos()
    {
        var tokenizer = Load(Json(ignoreMerges: true));
        Assert.Equal([5, 7, 6, 7], tokenizer.Encode("bab</s>bab"));
        Assert.Equal([7, 6, 7], tokenizer.Encode("bab</s>bab", addSpecialTokens: false));
        Assert.Equal("bab</s>bab", tokenizer.Decode([7, 6, 7]));
        Assert.Equal("babbab", tokenizer.Decode([5, 7, 6, 7], skipSpecialTokens: true));
    }

    [Fact]
    public void Split_special_tokens_with_ignore_merges_reads_the_token_text_as_words()
    {
        var tokenizer = HuggingFaceTokenizer.FromStreams(TinyTokenizerJson.Stream(Json(ignoreMerges: true)), File,
            TinyTokenizerJson.Stream("""{"split_special_tokens": true}"""), "tokenizer_config.json");
        // "<s>" is not a vocabulary word here, and with split_special_tokens it is not the added token either.
        Assert.DoesNotContain(5, tokenizer.Encode("<s>bab", addSpecialTokens: false));
    }

    [Fact]
    public void Byte_level_alphabet_is_gpt2s()
    {
        Assert.Equal("Ġ", ByteLevelAlphabet.Encode(" "));
        Assert.Equal("Ċ", ByteLevelAlphabet.Encode("\n"));
        Assert.Equal("Hi!", ByteLevelAlphabet.Encode("Hi!"));
        // Every vocabulary key of the real Qwen3 file is written in this alphabet: its 256 single characters
        // are exactly the table's.
        var singles = TokenizerTestFiles.Qwen3Vocabulary.Keys.Where(k => k.Length == 1).ToHashSet();
        for (var b = 0; b < 256; b++) Assert.Contains(ByteLevelAlphabet.ForByte((byte)b).ToString(), singles);
        Assert.Equal(256, Enumerable.Range(0, 256).Select(b => ByteLevelAlphabet.ForByte((byte)b)).Distinct().Count());
        Assert.Contains(ByteLevelAlphabet.Encode(" 한"), TokenizerTestFiles.Qwen3Vocabulary.Keys);
    }
}

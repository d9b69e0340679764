using System.Text;
using System.Text.RegularExpressions;
using RaftPipeline.Text.Tokenization;

namespace RaftPipeline.Text.Tests.Tokenization;

/// <summary>Facts about the real Qwen3 tokenizer that hold without the Python reference fixture.</summary>
public class Qwen3TokenizerTests
{
    static HuggingFaceTokenizer Tokenizer => TokenizerTestFiles.Qwen3;
    static int Vocab(string byteLevelToken) => TokenizerTestFiles.Qwen3Vocabulary[byteLevelToken];

    [Fact]
    public void Whole_vocabulary_words_encode_to_their_vocabulary_ids()
    {
        // "Ġ" is the byte-level form of a space.
        Assert.Equal([Vocab("Hello"), Vocab(","), Vocab("Ġworld"), Vocab("!")], Tokenizer.Encode("Hello, world!"));
    }

    [Fact]
    public void Digits_are_split_one_by_one()
    {
        Assert.Equal([Vocab("2"), Vocab("0"), Vocab("2"), Vocab("4"), Vocab("Ġ"), Vocab("1"), Vocab("2")], Tokenizer.Encode("2024 12"));
    }

    [Fact]
    public void Named_special_tokens_and_vocabulary_size()
    {
        Assert.Equal("<|im_end|>", Tokenizer.EosToken);
        Assert.Equal(151645, Tokenizer.EosTokenId);
        Assert.Equal("<|endoftext|>", Tokenizer.PadToken);
        Assert.Equal(151643, Tokenizer.PadTokenId);
        Assert.Null(Tokenizer.BosToken);
        Assert.Null(Tokenizer.BosTokenId);
        Assert.Equal(151643 + 26, Tokenizer.VocabularySize);
        Assert.Equal(151667, Tokenizer.TokenToId("<think>"));
        Assert.Equal("</think>", Tokenizer.IdToToken(151668));
        Assert.True(Tokenizer.IsSpecial(151644));
        Assert.False(Tokenizer.IsSpecial(151667));
    }

    [Fact]
    public void Qwen3_adds_no_bos_or_eos()
    {
        Assert.Empty(Tokenizer.PrefixIds);
        Assert.Empty(Tokenizer.SuffixIds);
        Assert.Equal(Tokenizer.Encode("안녕", addSpecialTokens: false), Tokenizer.Encode("안녕", addSpecialTokens: true));
    }

    [Fact]
    public void Added_tokens_inside_text_are_single_ids()
    {
        var ids = Tokenizer.Encode("<|im_start|>user\n그것도 몰라?<|im_end|>\n<think>\n\n</think>");
        Assert.Equal(151644, ids[0]);
        Assert.Equal([151644, 151645, 151667, 151668], ids.Where(id => id >= 151643).ToArray());
        Assert.Equal(Vocab("user"), ids[1]);
    }

    [Theory]
    [InlineData("<|im_sta")]
    [InlineData("<|IM_START|>")]
    [InlineData("< |im_start|>")]
    [InlineData("<thinking>")]
    public void Near_misses_of_added_tokens_are_plain_text(string text)
    {
        var ids = Tokenizer.Encode(text);
        Assert.DoesNotContain(ids, id => id >= 151643);
        Assert.Equal(text, Tokenizer.Decode(ids));
    }

    [Fact]
    public void A_combining_mark_after_an_added_token_does_not_compose_into_it()
    {
        // NFC would turn ">" + U+0338 into "≯"; Hugging Face splits the token out before normalizing.
        var ids = Tokenizer.Encode("<|im_end|>\u0338");
        Assert.Equal(151645, ids[0]);
        Assert.Equal("<|im_end|>\u0338", Tokenizer.Decode(ids));
        // Outside a token the same pair is composed.
        Assert.Equal(Tokenizer.Encode("a\u226F"), Tokenizer.Encode("a>\u0338"));
    }

    [Fact]
    public void Decomposed_hangul_is_composed_before_encoding()
    {
        Assert.Equal(Tokenizer.Encode("한글"), Tokenizer.Encode("\u1112\u1161\u11ab\u1100\u1173\u11af"));
        Assert.Equal(Tokenizer.Encode("café"), Tokenizer.Encode("cafe\u0301"));
    }

    [Fact]
    public void Supplementary_letters_and_digits_are_whole_code_points_in_the_split()
    {
        var pre = Tokenizer.Bpe.PreTokenizer!;
        // 𠀀 is a letter: "a𠀀b" is one \p{L}+ piece, as in Hugging Face (a UTF-16 regex would cut it in three).
        Assert.Equal([(0, 4)], pre.PreTokenize("a\U00020000b").ToArray());
        // 𝟏𝟐 are two digits: \p{N} takes one code point (two UTF-16 units) at a time.
        Assert.Equal([(0, 2), (2, 2)], pre.PreTokenize("\U0001D7CF\U0001D7D0").ToArray());
    }

    [Fact]
    public void Decode_can_skip_special_tokens_but_keeps_non_special_added_tokens()
    {
        var ids = Tokenizer.Encode("<|im_start|>assistant\n<think>\n\n</think>\n\n네<|im_end|>");
        Assert.Equal("<|im_start|>assistant\n<think>\n\n</think>\n\n네<|im_end|>", Tokenizer.Decode(ids));
        Assert.Equal("assistant\n<think>\n\n</think>\n\n네", Tokenizer.Decode(ids, skipSpecialTokens: true));
    }

    [Fact]
    public void Empty_text_has_no_tokens() => Assert.Empty(Tokenizer.Encode(""));

    [Fact]
    public void Unpaired_surrogate_is_refused_with_its_index()
    {
        var error = Assert.Throws<ArgumentException>(() => Tokenizer.Encode("ab\uD800c"));
        Assert.Contains("index 2", error.Message);
    }

    [Fact]
    public void Every_corpus_line_round_trips_through_decode()
    {
        // Decoding gives the normalized text: NFC between added tokens, the tokens themselves verbatim.
        var addedTokens = new Regex(string.Join("|", Tokenizer.AddedTokens.Select(t => Regex.Escape(t.Content))));
        var failures = new List<string>();
        var corpus = TokenizerTestFiles.ReadCorpus();
        Assert.True(corpus.Count >= 200, $"corpus has {corpus.Count} lines");
        for (var i = 0; i < corpus.Count; i++)
        {
            var text = corpus[i];
            var expected = NfcBetween(addedTokens, text);
            var decoded = Tokenizer.Decode(Tokenizer.Encode(text));
            if (decoded != expected) failures.Add($"line {i + 1}: {Escape(text)} decoded as {Escape(decoded)}");
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    static string NfcBetween(Regex addedTokens, string text)
    {
        var builder = new StringBuilder();
        var position = 0;
        foreach (Match match in addedTokens.Matches(text))
        {
            builder.Append(text[position..match.Index].Normalize(NormalizationForm.FormC)).Append(match.Value);
            position = match.Index + match.Length;
        }
        return builder.Append(text[position..].Normalize(NormalizationForm.FormC)).ToString();
    }

    internal static string Escape(string text) => System.Text.Json.JsonSerializer.Serialize(text);
}

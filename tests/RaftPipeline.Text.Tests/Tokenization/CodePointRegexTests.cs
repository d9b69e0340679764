using RaftPipeline.Text.Tokenization;

namespace RaftPipeline.Text.Tests.Tokenization;

public class CodePointRegexTests
{
    [Theory]
    [InlineData(@"\p{L}+", "a\U00020000b", "a\U00020000b")]      // CJK extension B is a letter
    [InlineData(@"[^\s\p{L}\p{N}]+", "\U0001F600!", "\U0001F600!")] // emoji are symbols, the pair stays whole
    [InlineData(@"\p{N}", "\U0001D7CF", "\U0001D7CF")]              // one supplementary digit is one \p{N}
    [InlineData(@"[\u4e00-\u9fff]+", "漢字x", "漢字")]
    [InlineData(@"\S+", "\U0001F600\U0001F600 x", "\U0001F600\U0001F600")]
    public void Classes_match_whole_code_points(string pattern, string input, string expectedFirstMatch)
    {
        var matches = CodePointRegex.Create(pattern).Matches(input);
        Assert.NotEmpty(matches);
        Assert.Equal(expectedFirstMatch, input.Substring(matches[0].Index, matches[0].Length));
    }

    [Fact]
    public void A_negated_class_never_matches_half_a_surrogate_pair()
    {
        // "[^\p{L}]" must not take the high surrogate of a supplementary letter.
        var regex = CodePointRegex.Create(@"[^\p{L}]");
        Assert.Empty(regex.Matches("\U00020000"));
        Assert.Equal([(0, 2)], regex.Matches("\U0001F600"));
    }

    [Theory]
    [InlineData(@"\w+", "'\\w'")]
    [InlineData(@"a\b", "'\\b'")]
    [InlineData(@"[[:alpha:]]", "nested class")]
    [InlineData(@"\p{Han}", "\\p{Han}")]
    [InlineData(@"^a", "anchor")]
    [InlineData("\U0001F600+", "outside the BMP")]
    public void Constructs_whose_meaning_differs_are_refused(string pattern, string named)
    {
        var error = Assert.Throws<NotSupportedException>(() => CodePointRegex.Translate(pattern));
        Assert.Contains(named, error.Message);
        Assert.Contains("pattern offset", error.Message);
    }

    [Fact]
    public void Case_insensitive_letters_fold_like_oniguruma()
    {
        // Oniguruma's (?i) uses Unicode case folding: "'s" also matches "'ſ" (long s folds to s); .NET alone would not.
        var regex = CodePointRegex.Create("(?i:'s|'t)|x");
        Assert.Equal([(0, 2)], regex.Matches("'\u017F"));
        Assert.Equal([(0, 2)], regex.Matches("'S"));
        Assert.Empty(regex.Matches("X")); // outside the (?i:...) group case still matters
    }
}

using System.Text;
using RaftPipeline.Stages.Eval;

namespace RaftPipeline.Stages.Tests.Eval;

public class AnswerScorerTests
{
    static readonly AnswerScorer Scorer = new("그것도 몰라?", "여기", "내가 그딴 걸 어떻게 알아?");
    const string Context = "한강은 한반도 중부를 흐르는 강으로, 서울을 동서로 가로지른다. 길이는 약 494킬로미터이다.";

    [Theory]
    [InlineData("그것도 몰라? 한강은 서울을 가로질러.", true)]
    [InlineData("  \n그것도 몰라? 당연하지.", true)]                      // leading whitespace is not the answer
    [InlineData("<think>\n\n</think>\n\n그것도 몰라? 당연하지.", true)]  // a model trained without stripping writes it
    [InlineData("그것도 몰라", false)]                                   // the question mark is part of the opening
    [InlineData("음, 그것도 몰라? 당연하지.", false)]                    // the opening must come first
    [InlineData("", false)]
    public void Opening_means_the_answer_starts_with_it(string answer, bool expected) =>
        Assert.Equal(expected, Scorer.HasOpening(answer));

    [Fact]
    public void Opening_and_refusal_compare_in_NFC_so_decomposed_hangul_still_counts()
    {
        string decomposed = "그것도 몰라? 봐.".Normalize(NormalizationForm.FormD);
        Assert.NotEqual("그것도 몰라? 봐.", decomposed); // really decomposed jamo
        Assert.True(Scorer.HasOpening(decomposed));
        Assert.True(Scorer.Refuses("내가 그딴 걸 어떻게 알아?".Normalize(NormalizationForm.FormD)));
    }

    [Theory]
    [InlineData("그것도 몰라? 여기 '서울을 동서로 가로지른다'라고 써 있잖아.", "서울을 동서로 가로지른다")]
    [InlineData("여기 봐: 길이는 약 494킬로미터이다.", " 길이는 약 494킬로미터이다.")] // the longest verbatim run after the marker
    [InlineData("여기에 답이 있어. 한반도 중부를 흐르는 강이야.", " 한반도 중부를 흐르는 강")]
    public void Quote_means_a_verbatim_context_span_of_eight_chars_after_the_marker(string answer, string span)
    {
        Assert.True(Scorer.QuotesContext(answer, Context));
        Assert.Equal(span, Scorer.QuotedSpan(answer, Context));
    }

    [Theory]
    [InlineData("서울을 동서로 가로지른다. 여기 봐.")]              // the span comes before the marker
    [InlineData("그것도 몰라? 서울을 동서로 가로지른다니까.")]     // a span but no marker
    [InlineData("여기 '서울을 동서로'야.")]                        // "서울을 동서로" is 7 characters: too short
    [InlineData("여기 '서울을 남북으로 가로지른다'야.")]           // not verbatim
    [InlineData("여기 .        .")]                                // punctuation and spaces only
    public void No_quote_without_a_long_enough_verbatim_span_after_the_marker(string answer) =>
        Assert.False(Scorer.QuotesContext(answer, Context));

    [Fact]
    public void Eight_characters_are_enough()
    {
        Assert.True(Scorer.QuotesContext("여기 '서울을 동서로 '", Context)); // "서울을 동서로 " with its space: 8 characters
        Assert.Equal("서울을 동서로 ", Scorer.QuotedSpan("여기 '서울을 동서로 '", Context));
        Assert.Equal(8, AnswerScorer.DefaultQuoteMinChars);
    }

    [Theory]
    [InlineData("내가 그딴 걸 어떻게 알아?", true)]
    [InlineData(" 내가 그딴 걸 어떻게 알아?\n", true)]
    [InlineData("내가 그딴 걸 어떻게 알아? 문맥에 없잖아.", true)]  // refusal first, then more: still declined
    [InlineData("그것도 몰라? 내가 그딴 걸 어떻게 알아?", false)]   // answered in style, then refused: not a refusal
    [InlineData("내가 그걸 어떻게 알아?", false)]
    public void Refusal_means_the_answer_is_or_starts_with_the_refusal(string answer, bool expected) =>
        Assert.Equal(expected, Scorer.Refuses(answer));
}

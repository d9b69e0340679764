using System.Text;
using RaftPipeline.Stages.Generate;

namespace RaftPipeline.Stages.Eval;

/// <summary>
/// The style rules eval counts, on an answer as a person reads it: a leading empty think block removed, Unicode NFC
/// (the tokenizer normalizes to NFC, so a decoded answer is NFC while a CSV may not be), surrounding whitespace trimmed.
/// <list type="bullet">
/// <item><b>opening</b>: the answer starts with the opening (e.g. "그것도 몰라?").</item>
/// <item><b>quote</b>: the marker (e.g. "여기") occurs in the answer and, after it, the answer holds
/// a span of at least <see cref="QuoteMinChars"/> characters, at least one a letter or digit, that appears verbatim in
/// the row's context. Eight characters are two or three Korean words: long enough that a chance match with the
/// context is rare, short enough that a quote cut by max_new_tokens still counts.</item>
/// <item><b>refusal</b>: the answer starts with the refusal (equal to it, or the refusal followed by more text: the
/// model declined, whatever it added).</item>
/// </list>
/// </summary>
public sealed class AnswerScorer
{
    public const int DefaultQuoteMinChars = 8;

    public AnswerScorer(string opening, string marker, string refusal, int quoteMinChars = DefaultQuoteMinChars)
    {
        if (string.IsNullOrWhiteSpace(opening)) throw new ArgumentException("the opening must not be empty", nameof(opening));
        if (string.IsNullOrWhiteSpace(marker)) throw new ArgumentException("the marker must not be empty", nameof(marker));
        if (string.IsNullOrWhiteSpace(refusal)) throw new ArgumentException("the refusal must not be empty", nameof(refusal));
        if (quoteMinChars < 1) throw new ArgumentOutOfRangeException(nameof(quoteMinChars), quoteMinChars, "must be at least 1");
        Opening = Normalize(opening);
        Marker = Normalize(marker);
        Refusal = Normalize(refusal);
        QuoteMinChars = quoteMinChars;
    }

    public string Opening { get; }
    public string Marker { get; }
    public string Refusal { get; }
    public int QuoteMinChars { get; }

    public static string Normalize(string answer) =>
        ChatPromptRenderer.WithoutEmptyThink(answer).Normalize(NormalizationForm.FormC).Trim();

    public bool HasOpening(string answer) => Normalize(answer).StartsWith(Opening, StringComparison.Ordinal);

    public bool Refuses(string answer) => Normalize(answer).StartsWith(Refusal, StringComparison.Ordinal);

    public bool QuotesContext(string answer, string context) => QuotedSpan(answer, context) is not null;

    /// <summary>The first qualifying span after a marker, or null (for predictions.jsonl, so a reader sees why it counted).</summary>
    public string? QuotedSpan(string answer, string context)
    {
        string text = Normalize(answer);
        string source = context.Normalize(NormalizationForm.FormC);
        // Everything after a later occurrence of the marker also follows the first one: the first is enough.
        int at = text.IndexOf(Marker, StringComparison.Ordinal);
        if (at < 0) return null;
        for (int start = at + Marker.Length; start + QuoteMinChars <= text.Length; start++)
        {
            string span = text.Substring(start, QuoteMinChars);
            if (!span.Any(char.IsLetterOrDigit) || !source.Contains(span, StringComparison.Ordinal)) continue;
            // Report the whole verbatim run, not only its first QuoteMinChars characters.
            int end = start + QuoteMinChars;
            while (end < text.Length && source.Contains(text[start..(end + 1)], StringComparison.Ordinal)) end++;
            return text[start..end];
        }
        return null;
    }
}

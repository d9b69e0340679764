using Microsoft.ML.Tokenizers;

namespace RaftPipeline.Text.Tokenization;

/// <summary>
/// Hugging Face's pre-tokenization for byte-level BPE: added tokens are split out first (each one piece),
/// then every stretch between them is cut by each <c>Split</c> regex in turn with the "Isolated" behaviour
/// (matches and the text between matches both become pieces).
/// </summary>
/// <remarks>
/// The library's <see cref="RegexPreTokenizer"/> is close but not the same: it drops text that its regex
/// does not match (Isolated keeps it), takes the first special token of its alternation rather than the
/// longest, applies one regex only, and its regex sees UTF-16 code units (see <see cref="CodePointRegex"/>).
/// </remarks>
public sealed class SplitPreTokenizer(AddedTokenMatcher addedTokens, IReadOnlyList<CodePointRegex> splits) : PreTokenizer
{
    public override IEnumerable<(int Offset, int Length)> PreTokenize(string text) => PreTokenize(text.AsSpan());

    public override IEnumerable<(int Offset, int Length)> PreTokenize(ReadOnlySpan<char> text) =>
        Split(text).Select(piece => (piece.Offset, piece.Length));

    /// <summary>The pieces, each marked whether it is an added token (text equal to an added token's content
    /// is not one when that token was left unmatched, e.g. with split_special_tokens).</summary>
    public List<(int Offset, int Length, bool IsAddedToken)> Split(ReadOnlySpan<char> text)
    {
        var pieces = new List<(int Offset, int Length, bool IsAddedToken)>();
        var stretch = new List<(int Offset, int Length)>();
        var position = 0;
        foreach (var token in addedTokens.FindAll(text))
        {
            AddStretch(text, position, token.Offset);
            pieces.Add((token.Offset, token.Length, true));
            position = token.Offset + token.Length;
        }
        AddStretch(text, position, text.Length);
        return pieces;

        void AddStretch(ReadOnlySpan<char> text, int start, int end)
        {
            stretch.Clear();
            SplitStretch(text, start, end, stretch);
            foreach (var (offset, length) in stretch) pieces.Add((offset, length, false));
        }
    }

    void SplitStretch(ReadOnlySpan<char> text, int start, int end, List<(int Offset, int Length)> pieces)
    {
        if (end <= start) return;
        List<(int Offset, int Length)> current = [(start, end - start)];
        foreach (var regex in splits)
        {
            var next = new List<(int Offset, int Length)>(current.Count * 2);
            foreach (var (offset, length) in current) SplitIsolated(regex, text.Slice(offset, length), offset, next);
            current = next;
        }
        pieces.AddRange(current);
    }

    /// <summary>The piece is matched on its own, as Hugging Face does, so a lookahead never sees past it.</summary>
    static void SplitIsolated(CodePointRegex regex, ReadOnlySpan<char> piece, int baseOffset, List<(int Offset, int Length)> output)
    {
        var position = 0;
        foreach (var match in regex.Matches(piece))
        {
            if (match.Length == 0) continue;
            if (match.Index > position) output.Add((baseOffset + position, match.Index - position));
            output.Add((baseOffset + match.Index, match.Length));
            position = match.Index + match.Length;
        }
        if (position < piece.Length) output.Add((baseOffset + position, piece.Length - position));
    }
}

using Microsoft.ML.Tokenizers;

namespace RaftPipeline.Text.Tokenization;

/// <summary>A pre-tokenizer that keeps the text as one piece, so a BpeTokenizer encodes exactly one word.</summary>
/// <remarks>BpeTokenizer given no pre-tokenizer does not keep the text whole: measured, it drops the space of
/// " abb" (byte-level "Ġabb" came back as "abb"'s ids).</remarks>
public sealed class WholeTextPreTokenizer : PreTokenizer
{
    public static readonly WholeTextPreTokenizer Instance = new();

    public override IEnumerable<(int Offset, int Length)> PreTokenize(string text) => PreTokenize(text.AsSpan());

    public override IEnumerable<(int Offset, int Length)> PreTokenize(ReadOnlySpan<char> text) =>
        text.IsEmpty ? [] : [(0, text.Length)];
}

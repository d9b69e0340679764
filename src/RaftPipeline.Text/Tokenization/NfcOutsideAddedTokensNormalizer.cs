using System.Text;
using Microsoft.ML.Tokenizers;

namespace RaftPipeline.Text.Tokenization;

/// <summary>
/// tokenizer.json's <c>{"type": "NFC"}</c> normalizer, applied the way Hugging Face applies it: only to the
/// text between added tokens that are matched unnormalized (<c>"normalized": false</c>).
/// </summary>
/// <remarks>
/// Microsoft.ML.Tokenizers normalizes the whole input before its pre-tokenizer sees the added tokens, while
/// Hugging Face splits those tokens out of the raw text first. The two differ where NFC composes across a
/// token's edge: "&lt;|im_end|&gt;" followed by U+0338 becomes "&lt;|im_end|≯" under whole-text NFC and the
/// token is lost. Doing the split inside the library's <see cref="Normalizer"/> extension point keeps its
/// encoding pipeline (normalize → pre-tokenize → BPE) while giving Hugging Face's result.
/// </remarks>
public sealed class NfcOutsideAddedTokensNormalizer(AddedTokenMatcher rawTextTokens) : Normalizer
{
    public override string Normalize(string original) => Normalize(original.AsSpan());

    public override string Normalize(ReadOnlySpan<char> original)
    {
        var tokens = rawTextTokens.FindAll(original);
        if (tokens.Count == 0) return Nfc(original);
        var builder = new StringBuilder(original.Length);
        var position = 0;
        foreach (var (offset, length) in tokens)
        {
            builder.Append(Nfc(original[position..offset]));
            builder.Append(original.Slice(offset, length));
            position = offset + length;
        }
        builder.Append(Nfc(original[position..]));
        return builder.ToString();
    }

    static string Nfc(ReadOnlySpan<char> text)
    {
        var value = text.ToString();
        return value.IsNormalized(NormalizationForm.FormC) ? value : value.Normalize(NormalizationForm.FormC);
    }
}

using System.Text;
using Microsoft.ML.Tokenizers;

namespace RaftPipeline.Text.Tokenization;

/// <summary>
/// tokenizer.json's normalizer (NFC, Prepend, Replace, a Sequence of these) applied the way Hugging Face applies
/// it: to each stretch of text between added tokens that are matched unnormalized (<c>"normalized": false</c>),
/// never across or to those tokens.
/// </summary>
/// <remarks>
/// Microsoft.ML.Tokenizers normalizes the whole input before its pre-tokenizer sees the added tokens, while
/// Hugging Face splits those tokens out of the raw text first. The two differ where NFC composes across a
/// token's edge: "&lt;|im_end|&gt;" followed by U+0338 becomes "&lt;|im_end|≯" under whole-text NFC and the
/// token is lost; and Llama 2's Prepend("▁") must start every stretch ("&lt;s&gt;Hi" → "&lt;s&gt;▁Hi"), not the
/// text. Doing the split inside the library's <see cref="Normalizer"/> extension point keeps its encoding
/// pipeline (normalize → pre-tokenize → BPE) while giving Hugging Face's result.
/// </remarks>
public sealed class SegmentNormalizer(AddedTokenMatcher rawTextTokens, IReadOnlyList<NormalizerStep> steps) : Normalizer
{
    public override string Normalize(string original) => Normalize(original.AsSpan());

    public override string Normalize(ReadOnlySpan<char> original)
    {
        var tokens = rawTextTokens.FindAll(original);
        if (tokens.Count == 0) return Apply(original);
        var builder = new StringBuilder(original.Length + 8);
        var position = 0;
        foreach (var (offset, length) in tokens)
        {
            builder.Append(Apply(original[position..offset]));
            builder.Append(original.Slice(offset, length));
            position = offset + length;
        }
        builder.Append(Apply(original[position..]));
        return builder.ToString();
    }

    string Apply(ReadOnlySpan<char> stretch)
    {
        var text = stretch.ToString();
        foreach (var step in steps) text = step.Apply(text);
        return text;
    }
}

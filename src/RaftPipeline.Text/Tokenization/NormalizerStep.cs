using System.Text;

namespace RaftPipeline.Text.Tokenization;

/// <summary>One supported tokenizer.json normalizer, applied to a stretch of text between added tokens.</summary>
public abstract record NormalizerStep
{
    public abstract string Apply(string text);

    /// <summary><c>{"type": "NFC"}</c>.</summary>
    public sealed record Nfc : NormalizerStep
    {
        public override string Apply(string text) =>
            text.IsNormalized(NormalizationForm.FormC) ? text : text.Normalize(NormalizationForm.FormC);
    }

    /// <summary><c>{"type": "Prepend", "prepend": "▁"}</c>: tokenizers prepends to non-empty text only.</summary>
    public sealed record Prepend(string Text) : NormalizerStep
    {
        public override string Apply(string text) => text.Length == 0 ? text : Text + text;
    }

    /// <summary><c>{"type": "Replace", "pattern": {"String": " "}, "content": "▁"}</c>: every occurrence.</summary>
    public sealed record Replace(string Pattern, string Content) : NormalizerStep
    {
        public override string Apply(string text) => text.Replace(Pattern, Content, StringComparison.Ordinal);
    }
}

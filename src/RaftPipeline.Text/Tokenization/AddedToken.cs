namespace RaftPipeline.Text.Tokenization;

/// <summary>
/// An entry of tokenizer.json's <c>added_tokens</c>: text matched as a whole before pre-tokenization.
/// <paramref name="Special"/> tokens are dropped by <c>skip_special_tokens</c>; <paramref name="Normalized"/>
/// tokens are matched in the normalized text, the others in the raw text.
/// </summary>
public sealed record AddedToken(int Id, string Content, bool Special, bool Normalized);

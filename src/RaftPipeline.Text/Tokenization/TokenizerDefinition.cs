namespace RaftPipeline.Text.Tokenization;

/// <summary>
/// What a supported tokenizer.json says, checked: a byte-level BPE model, its added tokens, whether text is
/// NFC-normalized, the split regexes (Oniguruma syntax, applied in order) and the ids the post-processor
/// puts around a single sequence.
/// </summary>
public sealed record TokenizerDefinition(
    string SourceName,
    IReadOnlyDictionary<string, int> Vocabulary,
    IReadOnlyList<string> Merges,
    IReadOnlyList<AddedToken> AddedTokens,
    bool NormalizeNfc,
    IReadOnlyList<string> SplitPatterns,
    string? UnknownToken,
    PostProcessorTemplate? PostProcessor);

/// <summary>The special-token ids a <c>TemplateProcessing</c> post-processor adds before and after a single
/// sequence (e.g. Llama 3's <c>&lt;|begin_of_text|&gt;</c>).</summary>
public sealed record PostProcessorTemplate(IReadOnlyList<int> PrefixIds, IReadOnlyList<int> SuffixIds);

namespace RaftPipeline.Text.Tokenization;

/// <summary>
/// What a supported tokenizer.json says, checked: a BPE model (byte-level as in Qwen and Llama 3, or
/// SentencePiece-style with "▁" for spaces and byte fallback as in Llama 2 and Mistral), its added tokens, the
/// normalizer steps, the split regexes (Oniguruma syntax, applied in order), the decoder steps and the ids the
/// post-processor puts around a single sequence.
/// </summary>
public sealed record TokenizerDefinition(
    string SourceName,
    IReadOnlyDictionary<string, int> Vocabulary,
    IReadOnlyList<string> Merges,
    IReadOnlyList<AddedToken> AddedTokens,
    IReadOnlyList<NormalizerStep> Normalizers,
    IReadOnlyList<string> SplitPatterns,
    string? UnknownToken,
    PostProcessorTemplate? PostProcessor)
{
    /// <summary>True when a ByteLevel pre-tokenizer maps UTF-8 bytes to vocabulary characters (GPT-2 style).</summary>
    public bool ByteLevel { get; init; } = true;

    /// <summary>model.ignore_merges (Llama 3): a pre-token found whole in the vocabulary is one token.</summary>
    public bool IgnoreMerges { get; init; }

    /// <summary>model.byte_fallback (Llama 2, Mistral): a character outside the vocabulary becomes its UTF-8
    /// bytes as <c>&lt;0xNN&gt;</c> tokens.</summary>
    public bool ByteFallback { get; init; }

    /// <summary>model.fuse_unk: consecutive unknown characters become one unknown token.</summary>
    public bool FuseUnknownTokens { get; init; }

    /// <summary>The decoder chain for non-byte-level models (empty for ByteLevel, which the library decodes).</summary>
    public IReadOnlyList<DecoderStep> Decoders { get; init; } = [];

    public bool NormalizeNfc => Normalizers.Any(step => step is NormalizerStep.Nfc);
}

/// <summary>The special-token ids a <c>TemplateProcessing</c> post-processor adds before and after a single
/// sequence (e.g. Llama 3's <c>&lt;|begin_of_text|&gt;</c>).</summary>
public sealed record PostProcessorTemplate(IReadOnlyList<int> PrefixIds, IReadOnlyList<int> SuffixIds);

using Microsoft.ML.Tokenizers;
using RaftPipeline.Text.Assets;

namespace RaftPipeline.Text.Tokenization;

/// <summary>
/// A Hugging Face model folder's tokenizer (tokenizer.json + tokenizer_config.json) on Microsoft.ML.Tokenizers:
/// the library's <see cref="BpeTokenizer"/> does the BPE merges; our <see cref="Normalizer"/> and
/// <see cref="PreTokenizer"/> subclasses give it Hugging Face's added-token, normalizer and split behaviour, and
/// <see cref="BpeWordEncoder"/> adds what its BPE lacks (ignore_merges, byte fallback) for Llama-style files.
/// Encodes to the ids transformers' <c>tokenizer.encode(text)</c> gives, decodes like <c>tokenizer.decode</c>.
/// Thread-safe once built.
/// </summary>
public sealed class HuggingFaceTokenizer
{
    public const string TokenizerFileName = "tokenizer.json";
    public const string ConfigFileName = "tokenizer_config.json";

    readonly Dictionary<int, AddedToken> _addedById;
    readonly Dictionary<string, int> _addedByContent;
    readonly IReadOnlyDictionary<string, int> _vocabulary;
    readonly HashSet<int> _knownIds;
    readonly Lazy<Dictionary<int, string>> _vocabularyById;
    readonly int[] _prefixIds;
    readonly int[] _suffixIds;
    readonly SplitPreTokenizer _preTokenizer;
    readonly BpeWordEncoder? _wordEncoder;

    HuggingFaceTokenizer(TokenizerDefinition definition, TokenizerConfig config, string configSource)
    {
        Definition = definition;
        Config = config;
        _vocabulary = definition.Vocabulary;
        _addedById = new Dictionary<int, AddedToken>();
        _addedByContent = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var token in definition.AddedTokens)
        {
            _addedById[token.Id] = token;
            _addedByContent[token.Content] = token.Id;
        }
        _knownIds = [.. _vocabulary.Values, .. _addedById.Keys];
        _vocabularyById = new(() => _vocabulary.ToDictionary(pair => pair.Value, pair => pair.Key));

        // split_special_tokens=true makes transformers read special tokens in text as plain text.
        var matched = definition.AddedTokens.Where(t => !(config.SplitSpecialTokens && t.Special)).ToList();
        var allMatched = new AddedTokenMatcher(matched.Select(t => t.Content));
        var rawMatched = new AddedTokenMatcher(matched.Where(t => !t.Normalized).Select(t => t.Content));
        var splits = definition.SplitPatterns.Select(CodePointRegex.Create).ToList();
        _preTokenizer = new SplitPreTokenizer(allMatched, splits);

        Bpe = BpeTokenizer.Create(new BpeOptions(_vocabulary)
        {
            Merges = definition.Merges,
            SpecialTokens = _addedByContent,
            ByteLevel = definition.ByteLevel,
            UnknownToken = definition.UnknownToken,
            PreTokenizer = _preTokenizer,
            Normalizer = definition.Normalizers.Count > 0 ? new SegmentNormalizer(rawMatched, definition.Normalizers) : null,
        });
        if (definition.IgnoreMerges || !definition.ByteLevel)
        {
            // The same merges with no normalizer and no pre-tokenizer: one call encodes one word.
            var wordBpe = BpeTokenizer.Create(new BpeOptions(_vocabulary)
            {
                Merges = definition.Merges,
                ByteLevel = definition.ByteLevel,
                PreTokenizer = WholeTextPreTokenizer.Instance,
            });
            _wordEncoder = new BpeWordEncoder(wordBpe, definition);
        }

        BosTokenId = IdOfNamedToken(config.BosToken, "bos_token", configSource);
        EosTokenId = IdOfNamedToken(config.EosToken, "eos_token", configSource);
        PadTokenId = IdOfNamedToken(config.PadToken, "pad_token", configSource);
        UnkTokenId = IdOfNamedToken(config.UnkToken, "unk_token", configSource);

        // BOS/EOS are added here rather than through BpeOptions.BeginningOfSentenceToken, which would add
        // them to every encoding with no way to ask for the bare ids. tokenizer_config.json's
        // add_bos_token/add_eos_token decide when present; otherwise tokenizer.json's post-processor does.
        _prefixIds = config.AddBosToken switch
        {
            true => [BosTokenId ?? throw new TokenizerFormatException(configSource, "$.add_bos_token", "add_bos_token is true but bos_token is not set")],
            false => [],
            null => [.. definition.PostProcessor?.PrefixIds ?? []],
        };
        _suffixIds = config.AddEosToken switch
        {
            true => [EosTokenId ?? throw new TokenizerFormatException(configSource, "$.add_eos_token", "add_eos_token is true but eos_token is not set")],
            false => [],
            null => [.. definition.PostProcessor?.SuffixIds ?? []],
        };
    }

    /// <summary>Loads DIR/tokenizer.json and, when present, DIR/tokenizer_config.json.</summary>
    public static HuggingFaceTokenizer FromDirectory(string directory)
    {
        var tokenizerPath = Path.Combine(directory, TokenizerFileName);
        if (!File.Exists(tokenizerPath))
            throw new FileNotFoundException($"{tokenizerPath}: no {TokenizerFileName} in the model folder", tokenizerPath);
        var configPath = Path.Combine(directory, ConfigFileName);
        using var tokenizer = File.OpenRead(tokenizerPath);
        using var config = File.Exists(configPath) ? File.OpenRead(configPath) : null;
        return FromStreams(tokenizer, tokenizerPath, config, configPath);
    }

    /// <summary>The real Qwen3 tokenizer shipped inside RaftPipeline.Text (see Assets/Qwen3/SOURCE.md).</summary>
    public static HuggingFaceTokenizer FromEmbeddedQwen3()
    {
        using var tokenizer = EmbeddedAssets.OpenQwen3(TokenizerFileName);
        using var config = EmbeddedAssets.OpenQwen3(ConfigFileName);
        return FromStreams(tokenizer, $"embedded:Qwen3/{TokenizerFileName}", config, $"embedded:Qwen3/{ConfigFileName}");
    }

    /// <param name="configJson">tokenizer_config.json, or null to use none.</param>
    public static HuggingFaceTokenizer FromStreams(Stream tokenizerJson, string tokenizerSource, Stream? configJson, string configSource)
    {
        var definition = TokenizerJsonReader.Read(tokenizerJson, tokenizerSource);
        var config = configJson is null ? TokenizerConfig.Empty : TokenizerConfig.Read(configJson, configSource);
        return new HuggingFaceTokenizer(definition, config, configSource);
    }

    /// <summary>The library tokenizer doing the work (no BOS/EOS added; <see cref="Encode"/> adds them). For
    /// files with ignore_merges or a SentencePiece-style vocabulary it lacks those pieces: use <see cref="Encode"/>.</summary>
    public BpeTokenizer Bpe { get; }

    public TokenizerDefinition Definition { get; }
    public TokenizerConfig Config { get; }
    public IReadOnlyList<AddedToken> AddedTokens => Definition.AddedTokens;

    /// <summary>Distinct token ids, added tokens included: Python's <c>len(tokenizer)</c> (151,669 for Qwen3).
    /// The model's embedding table may be larger (Qwen3's config.json says 151,936).</summary>
    public int VocabularySize => _knownIds.Count;

    public string? BosToken => Config.BosToken;
    public string? EosToken => Config.EosToken;
    public string? PadToken => Config.PadToken;
    public string? UnkToken => Config.UnkToken;
    public int? BosTokenId { get; }
    public int? EosTokenId { get; }
    public int? PadTokenId { get; }
    public int? UnkTokenId { get; }

    /// <summary>Ids put before/after every encoding when special tokens are added (none for Qwen3).</summary>
    public IReadOnlyList<int> PrefixIds => _prefixIds;
    public IReadOnlyList<int> SuffixIds => _suffixIds;

    /// <summary>transformers' <c>encode(text, add_special_tokens=addSpecialTokens)</c>.</summary>
    /// <exception cref="ArgumentException">The text holds an unpaired UTF-16 surrogate (not a Unicode string).</exception>
    public int[] Encode(string text, bool addSpecialTokens = true)
    {
        ArgumentNullException.ThrowIfNull(text);
        EnsureWellFormed(text);
        var ids = _wordEncoder is null ? Bpe.EncodeToIds(text) : EncodeWordByWord(text);
        if (!addSpecialTokens || (_prefixIds.Length == 0 && _suffixIds.Length == 0)) return [.. ids];
        return [.. _prefixIds, .. ids, .. _suffixIds];
    }

    /// <summary>The library's normalize → pre-tokenize steps (our objects), then each piece through
    /// <see cref="BpeWordEncoder"/>.</summary>
    List<int> EncodeWordByWord(string text)
    {
        var normalized = Bpe.Normalizer?.Normalize(text) ?? text;
        var ids = new List<int>(normalized.Length / 2 + 4);
        foreach (var (offset, length, isAddedToken) in _preTokenizer.Split(normalized))
        {
            var piece = normalized.AsSpan(offset, length);
            if (isAddedToken) ids.Add(_addedByContent[piece.ToString()]);
            else _wordEncoder!.Encode(piece, ids);
        }
        return ids;
    }

    /// <summary>transformers' <c>decode(ids, skip_special_tokens=skipSpecialTokens)</c>. Only added tokens marked
    /// <c>"special": true</c> are skipped: Qwen3's <c>&lt;think&gt;</c> and <c>&lt;tool_call&gt;</c> stay.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An id is in neither the vocabulary nor the added tokens.</exception>
    public string Decode(IEnumerable<int> ids, bool skipSpecialTokens = false)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var kept = new List<int>();
        foreach (var id in ids)
        {
            // Ids the tokenizer does not know are dropped, as Hugging Face tokenizers and transformers drop them
            // (measured: Fixtures/tokenizer/meta.json, out_of_vocabulary_decode). They are real model output: an
            // embedding is often padded past the vocabulary (Qwen3: 151,936 rows for 151,669 tokens).
            if (!_knownIds.Contains(id)) continue;
            if (!(skipSpecialTokens && _addedById.TryGetValue(id, out var added) && added.Special)) kept.Add(id);
        }
        var text = Definition.ByteLevel ? Bpe.Decode(kept, considerSpecialTokens: true) : DecodeChain(kept);
        // tokenizer_config.json's clean_up_tokenization_spaces is not applied: transformers 5 ignores it for BPE
        // tokenizers, the only kind this class loads (measured: Fixtures/tokenizer_families, llama3 sets it true).
        return text;
    }

    /// <summary>tokenizers' decode for non-byte-level models: ids to token strings (added tokens by content),
    /// then the decoder chain.</summary>
    string DecodeChain(List<int> ids)
    {
        var tokens = ids.Select(id => IdToToken(id)!).ToList();
        foreach (var step in Definition.Decoders) tokens = step.DecodeChain(tokens);
        return string.Concat(tokens);
    }

    /// <summary>The id of an added token or vocabulary entry (vocabulary entries are in byte-level form,
    /// e.g. "Ġthe"), or null.</summary>
    public int? TokenToId(string token) =>
        _addedByContent.TryGetValue(token, out var added) ? added
        : _vocabulary.TryGetValue(token, out var id) ? id
        : null;

    /// <summary>The token text for an id (byte-level form for vocabulary entries), or null.</summary>
    public string? IdToToken(int id) =>
        _addedById.TryGetValue(id, out var added) ? added.Content
        : _vocabularyById.Value.TryGetValue(id, out var token) ? token : null;

    public bool IsSpecial(int id) => _addedById.TryGetValue(id, out var added) && added.Special;

    int? IdOfNamedToken(string? token, string key, string configSource) =>
        token is null ? null
        : TokenToId(token) ?? throw new TokenizerFormatException(configSource, $"$.{key}",
            $"\"{token}\" is neither an added token nor in the vocabulary of {Definition.SourceName}");

    static void EnsureWellFormed(string text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            if (!char.IsSurrogate(text[i])) continue;
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1])) { i++; continue; }
            throw new ArgumentException($"the text has an unpaired UTF-16 surrogate U+{(int)text[i]:X4} at index {i}", nameof(text));
        }
    }
}

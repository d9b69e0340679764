using System.Text.Json;
using RaftPipeline.Export.Gguf;
using RaftPipeline.Export.Source;
using RaftPipeline.Text.Tokenization;

namespace RaftPipeline.Export.Tokenizer;

/// <summary>
/// A model folder's tokenizer described the way llama.cpp reads it (tokenizer.ggml.*), as convert_hf_to_gguf's
/// get_vocab_base and gguf-py's SpecialVocab build it: <c>model = gpt2</c> (byte-level BPE); <c>pre</c>, the name of
/// the pre-tokenizer llama.cpp must run (llama-vocab.cpp); the tokens by id, padded to the model's vocab_size with
/// <c>[PADn]</c> tokens of type UNUSED; token types (NORMAL 1, CONTROL 3 for special added tokens and ones that look
/// special like &lt;|…|&gt;, USER_DEFINED 4 for other added tokens, UNUSED 5); the merges; the special ids from
/// tokenizer_config.json, else config.json; add_bos/add_eos; and the chat template(s). A SentencePiece-style tokenizer
/// (no ByteLevel pre-tokenizer) is described as <c>model = llama</c> by <see cref="SentencePieceVocabulary"/> instead.
/// <para>
/// The pre-tokenizer is named by what the tokenizer really splits with: llama.cpp's converter recognises a tokenizer
/// by hashing its output on a test text; we compare the split regex, which is what decides that output. A tokenizer
/// whose split is not one llama.cpp implements under a known name is refused before anything is written: llama.cpp
/// would otherwise split text differently from the model's training.
/// </para>
/// </summary>
public sealed class GgufTokenizer
{
    /// <summary>Split regexes (tokenizer.json pre_tokenizer, Split with behavior Isolated) and llama.cpp's name for them.</summary>
    public static readonly IReadOnlyDictionary<string, string> KnownPreTokenizers = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        // Qwen2/Qwen2.5/Qwen3: digits one by one.
        [@"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"] = "qwen2",
        // Llama 3: digits in groups of up to three.
        [@"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"] = "llama-bpe",
    };

    public const int TypeNormal = 1, TypeUnknown = 2, TypeControl = 3, TypeUserDefined = 4, TypeUnused = 5, TypeByte = 6;

    /// <summary>"gpt2" (byte-level BPE, merges) or "llama" (SentencePiece-style, scores; see <see cref="SentencePieceVocabulary"/>).</summary>
    public required string Model { get; init; }
    public required string Pre { get; init; }
    public required IReadOnlyList<string> Tokens { get; init; }
    public required IReadOnlyList<int> TokenTypes { get; init; }
    /// <summary>gpt2 only: the merges in rank order.</summary>
    public IReadOnlyList<string> Merges { get; init; } = [];
    /// <summary>llama only: tokenizer.ggml.scores, one per token.</summary>
    public IReadOnlyList<float>? Scores { get; init; }
    /// <summary>llama only: tokenizer.ggml.add_space_prefix ("▁" before the text and after each special token).</summary>
    public bool? AddSpacePrefix { get; init; }
    public int? BosId { get; init; }
    public int? EosId { get; init; }
    public int? PadId { get; init; }
    public int? UnkId { get; init; }
    public bool AddBos { get; init; }
    public bool AddEos { get; init; }
    /// <summary>Where llama.cpp's tokenization is known to part from the model's, though not refused; else null.</summary>
    public string? Note { get; init; }
    /// <summary>The default chat template, then named ones (tokenizer.chat_template.NAME).</summary>
    public IReadOnlyList<(string Name, string Template)> ChatTemplates { get; init; } = [];

    /// <summary>Reads and checks the tokenizer of <paramref name="folder"/>; refuses what llama.cpp could not reproduce.</summary>
    public static GgufTokenizer FromFolder(string folder, ExportModelConfig config)
    {
        var tokenizerPath = Path.Combine(folder, "tokenizer.json");
        if (!File.Exists(tokenizerPath))
            throw new ExportException(tokenizerPath, "not found: a GGUF carries the tokenizer, and export reads it from tokenizer.json");
        if (UsesMetaspace(tokenizerPath))
            throw new ExportException(tokenizerPath, "has a Metaspace pre-tokenizer, which this tool's tokenizer does not read; " +
                "SentencePiece-style tokenizers are exported when written with a Prepend/Replace \"▁\" normalizer (Llama 2, Mistral, Gemma)");
        TokenizerDefinition def;
        TokenizerConfig tc;
        var configPath = Path.Combine(folder, "tokenizer_config.json");
        try
        {
            using (var s = File.OpenRead(tokenizerPath)) def = TokenizerJsonReader.Read(s, tokenizerPath);
            if (File.Exists(configPath)) { using var s = File.OpenRead(configPath); tc = TokenizerConfig.Read(s, configPath); }
            else tc = TokenizerConfig.Empty;
        }
        catch (TokenizerFormatException ex)
        {
            throw new ExportException(tokenizerPath, $"cannot be described to llama.cpp: {ex.Message}");
        }

        if (!def.ByteLevel) return SentencePieceVocabulary.Describe(def, tc, config, tokenizerPath, ReadChatTemplates(folder));
        if (def.Normalizers.Any(n => n is not NormalizerStep.Nfc))
            throw new ExportException(tokenizerPath, "has a normalizer llama.cpp's gpt2 tokenizer does not apply (only NFC or none can be exported)");
        if (def.SplitPatterns.Count != 1 || !KnownPreTokenizers.TryGetValue(def.SplitPatterns[0], out var pre))
            throw new ExportException(tokenizerPath,
                $"its pre-tokenizer split ({(def.SplitPatterns.Count == 0 ? "none" : string.Join(" then ", def.SplitPatterns.Select(p => $"/{p}/")))}) " +
                $"is not one llama.cpp knows by name; known: {string.Join(", ", KnownPreTokenizers.Values)} (Qwen2/Qwen3 and Llama 3 regexes). " +
                "llama.cpp would split text differently from the model's training, so no GGUF is written");

        var (byId, added) = TokensById(def, config, tokenizerPath);

        var tokens = new string[config.VocabSize];
        var types = new int[config.VocabSize];
        for (int i = 0; i < config.VocabSize; i++)
        {
            if (!byId.TryGetValue(i, out var text))
            {
                tokens[i] = $"[PAD{i}]";
                types[i] = TypeUnused;
            }
            else if (added.TryGetValue(i, out var a))
            {
                tokens[i] = text;
                types[i] = a.Special || LooksSpecial(text) ? TypeControl : TypeUserDefined;
            }
            else
            {
                tokens[i] = text;
                types[i] = TypeNormal;
            }
        }

        var (bos, eos, pad, unk, addBos, addEos) = SpecialIds(def, tc, config);

        return new GgufTokenizer
        {
            Model = "gpt2",
            Pre = pre,
            Tokens = tokens,
            TokenTypes = types,
            Merges = def.Merges,
            BosId = bos,
            EosId = eos,
            PadId = pad,
            UnkId = unk,
            AddBos = addBos,
            AddEos = addEos,
            ChatTemplates = ReadChatTemplates(folder),
        };
    }

    /// <summary>Every id's text (vocabulary, then added tokens over it) and the added tokens by id; refuses an id past vocab_size.</summary>
    internal static (Dictionary<int, string> ById, Dictionary<int, AddedToken> Added) TokensById(TokenizerDefinition def, ExportModelConfig config, string path)
    {
        var byId = new Dictionary<int, string>();
        foreach (var (token, id) in def.Vocabulary) byId[id] = token;
        var added = def.AddedTokens.ToDictionary(t => t.Id);
        foreach (var t in def.AddedTokens) byId[t.Id] = t.Content;
        int maxId = byId.Keys.DefaultIfEmpty(-1).Max();
        if (maxId >= config.VocabSize)
            throw new ExportException(path, $"token id {maxId} is outside the model's vocab_size {config.VocabSize} (config.json)");
        return (byId, added);
    }

    /// <summary>The special ids from tokenizer_config.json's names, else config.json; add_bos/add_eos from
    /// tokenizer_config.json, else from what the post-processor puts around a sequence.</summary>
    internal static (int? Bos, int? Eos, int? Pad, int? Unk, bool AddBos, bool AddEos) SpecialIds(
        TokenizerDefinition def, TokenizerConfig tc, ExportModelConfig config)
    {
        int? IdOf(string? text) => text is not null && def.Vocabulary.TryGetValue(text, out var v) ? v
            : text is not null ? def.AddedTokens.FirstOrDefault(t => t.Content == text)?.Id : null;
        var bos = IdOf(tc.BosToken) ?? config.BosTokenId;
        var eos = IdOf(tc.EosToken) ?? (config.EosTokenIds.Count > 0 ? config.EosTokenIds[0] : null);
        var pad = IdOf(tc.PadToken) ?? config.PadTokenId;
        var unk = IdOf(tc.UnkToken ?? def.UnknownToken);
        bool addBos = tc.AddBosToken ?? (bos is { } b && def.PostProcessor?.PrefixIds.Contains(b) == true);
        bool addEos = tc.AddEosToken ?? (eos is { } e && def.PostProcessor?.SuffixIds.Contains(e) == true);
        return (bos, eos, pad, unk, addBos, addEos);
    }

    /// <summary>A Metaspace pre-tokenizer or decoder (transformers' newer SentencePiece conversions): refused by name, before
    /// the full read, whose own error would not say why.</summary>
    static bool UsesMetaspace(string tokenizerPath)
    {
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(tokenizerPath));
            return doc.RootElement.TryGetProperty("pre_tokenizer", out var part) && part.ValueKind == JsonValueKind.Object
                && part.GetRawText().Contains("\"Metaspace\"", StringComparison.Ordinal);
        }
        catch (JsonException)
        {
            return false; // the full read reports the file
        }
    }

    /// <summary>convert_hf_to_gguf's does_token_look_special, for the marker shapes of the families we export.</summary>
    internal static bool LooksSpecial(string token) =>
        token is "<pad>" or "<mask>" || (token.StartsWith("<|", StringComparison.Ordinal) && token.EndsWith("|>", StringComparison.Ordinal));

    /// <summary>chat_template.jinja when present (transformers 5 writes it and prefers it), else tokenizer_config.json's
    /// chat_template: a string, or a list of {name, template} where "default" is the main one.</summary>
    public static IReadOnlyList<(string Name, string Template)> ReadChatTemplates(string folder)
    {
        var jinja = Path.Combine(folder, "chat_template.jinja");
        if (File.Exists(jinja)) return [("default", File.ReadAllText(jinja))];
        var configPath = Path.Combine(folder, "tokenizer_config.json");
        if (!File.Exists(configPath)) return [];
        using var doc = JsonDocument.Parse(File.ReadAllText(configPath));
        if (!doc.RootElement.TryGetProperty("chat_template", out var t)) return [];
        if (t.ValueKind == JsonValueKind.String) return [("default", t.GetString()!)];
        if (t.ValueKind == JsonValueKind.Array)
            return t.EnumerateArray().Select(e => (e.GetProperty("name").GetString()!, e.GetProperty("template").GetString()!))
                .OrderBy(p => p.Item1 == "default" ? 0 : 1).ToList();
        return [];
    }

    public IEnumerable<KeyValuePair<string, GgufValue>> Metadata()
    {
        yield return new("tokenizer.ggml.model", GgufValue.Str(Model));
        yield return new("tokenizer.ggml.pre", GgufValue.Str(Pre));
        yield return new("tokenizer.ggml.tokens", GgufValue.Strings(Tokens));
        if (Scores is not null) yield return new("tokenizer.ggml.scores", GgufValue.F32s(Scores));
        yield return new("tokenizer.ggml.token_type", GgufValue.I32s(TokenTypes));
        if (Model == "gpt2") yield return new("tokenizer.ggml.merges", GgufValue.Strings(Merges));
        if (AddSpacePrefix is { } prefix) yield return new("tokenizer.ggml.add_space_prefix", GgufValue.Bool(prefix));
        if (BosId is { } b) yield return new("tokenizer.ggml.bos_token_id", GgufValue.U32((uint)b));
        if (EosId is { } e) yield return new("tokenizer.ggml.eos_token_id", GgufValue.U32((uint)e));
        if (UnkId is { } u) yield return new("tokenizer.ggml.unknown_token_id", GgufValue.U32((uint)u));
        if (PadId is { } p) yield return new("tokenizer.ggml.padding_token_id", GgufValue.U32((uint)p));
        yield return new("tokenizer.ggml.add_bos_token", GgufValue.Bool(AddBos));
        yield return new("tokenizer.ggml.add_eos_token", GgufValue.Bool(AddEos));
        foreach (var (name, template) in ChatTemplates)
            yield return new(name == "default" ? "tokenizer.chat_template" : $"tokenizer.chat_template.{name}", GgufValue.Str(template));
    }
}

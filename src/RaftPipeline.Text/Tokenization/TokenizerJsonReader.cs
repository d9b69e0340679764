using System.Text.Json;

namespace RaftPipeline.Text.Tokenization;

/// <summary>
/// Reads a Hugging Face tokenizer.json into a <see cref="TokenizerDefinition"/>, refusing — with the file and
/// the JSON path — every piece whose behaviour this loader does not reproduce exactly.
/// </summary>
public static class TokenizerJsonReader
{
    /// <summary>GPT-2's pattern, which tokenizers' ByteLevel pre-tokenizer applies when <c>use_regex</c> is true.</summary>
    public const string ByteLevelRegex = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

    public static TokenizerDefinition Read(Stream stream, string sourceName)
    {
        using var document = JsonCursor.Parse(stream, sourceName);
        var root = new JsonCursor(sourceName, "$", document.RootElement);
        root.ExpectKind(JsonValueKind.Object);

        foreach (var key in (string[])["truncation", "padding"])
            if (root.Optional(key) is { } set)
                throw set.Error($"'{key}' is set; tokenizers would cut or pad every encoding, which is not supported here (expected null)");

        var model = root.Required("model");
        var bpe = ReadModel(model);
        var addedTokens = ReadAddedTokens(root.Optional("added_tokens"));
        var normalizers = new List<NormalizerStep>();
        if (root.Optional("normalizer") is { } normalizer) ReadNormalizer(normalizer, normalizers);
        var (splits, byteLevel) = root.Optional("pre_tokenizer") is { } preTokenizer ? ReadPreTokenizer(preTokenizer, normalizers) : ([], false);
        var decoder = root.Optional("decoder") ?? throw root.Error(
            "missing 'decoder': tokenizers would join the tokens with spaces, which is not supported here");
        var decoders = new List<DecoderStep>();
        if (byteLevel) ReadByteLevelDecoder(decoder);
        else
        {
            ReadDecoder(decoder, decoders);
            CheckSentencePieceModel(model, bpe);
        }
        var postProcessor = root.Optional("post_processor") is { } post ? ReadPostProcessor(post) : null;

        return new TokenizerDefinition(sourceName, bpe.Vocabulary, bpe.Merges, addedTokens, normalizers, splits, bpe.UnknownToken, postProcessor)
        {
            ByteLevel = byteLevel,
            IgnoreMerges = bpe.IgnoreMerges,
            ByteFallback = bpe.ByteFallback,
            FuseUnknownTokens = bpe.FuseUnknown,
            Decoders = decoders,
        };
    }

    sealed record BpeModel(Dictionary<string, int> Vocabulary, List<string> Merges, List<(string Left, string Right)> MergePairs,
        string? UnknownToken, bool IgnoreMerges, bool ByteFallback, bool FuseUnknown);

    /// <summary>Without byte-level mapping, a character outside the vocabulary becomes byte or unknown tokens in
    /// the middle of a word; <see cref="BpeWordEncoder"/> cuts such characters out before the library merges,
    /// which is exact only while no merge involves those tokens. Real SentencePiece conversions have none.</summary>
    static void CheckSentencePieceModel(JsonCursor model, BpeModel bpe)
    {
        for (var i = 0; i < bpe.MergePairs.Count; i++)
        {
            var (left, right) = bpe.MergePairs[i];
            foreach (var side in (string[])[left, right])
                if (side == bpe.UnknownToken || (bpe.ByteFallback && DecoderStep.ByteFallback.TryParseByteToken(side, out _)))
                    throw new TokenizerFormatException(model.File, $"{model.Path}.merges[{i}]",
                        $"a merge of the {(side == bpe.UnknownToken ? "unknown" : "byte fallback")} token \"{side}\" is not supported");
        }
        if (bpe.UnknownToken is { } unk && !bpe.Vocabulary.ContainsKey(unk))
            throw model.Required("unk_token").Error($"the unknown token \"{unk}\" is not in model.vocab");
    }

    static BpeModel ReadModel(JsonCursor model)
    {
        var type = model.Optional("type")?.String()
            ?? throw model.Error("missing 'type' (expected \"BPE\")");
        if (type != "BPE")
            throw model.Required("type").Error($"model type \"{type}\" is not supported (only \"BPE\": byte-level as in Qwen and Llama 3, or SentencePiece-style as in Llama 2 and Mistral)");
        if (model.Optional("dropout") is { } dropout)
            throw dropout.Error($"BPE dropout {dropout.Describe()} is not supported (expected null)");
        foreach (var key in (string[])["continuing_subword_prefix", "end_of_word_suffix"])
            if (model.Optional(key) is { } affix && affix.String().Length > 0)
                throw affix.Error($"a non-empty {key} is not supported (expected \"\" or null)");
        var ignoreMerges = model.Optional("ignore_merges")?.Bool() ?? false;
        var byteFallback = model.Optional("byte_fallback")?.Bool() ?? false;
        var fuseUnknown = model.Optional("fuse_unk")?.Bool() ?? false;
        var unknownToken = model.Optional("unk_token")?.String();

        var vocabularyCursor = model.Required("vocab");
        vocabularyCursor.ExpectKind(JsonValueKind.Object);
        var vocabulary = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var entry in vocabularyCursor.Element.EnumerateObject())
        {
            // 150k entries: the cursor (and its path string) is only made to report an error.
            if (entry.Value.ValueKind != JsonValueKind.Number || !entry.Value.TryGetInt32(out var id))
                id = new JsonCursor(model.File, $"{vocabularyCursor.Path}[{JsonSerializer.Serialize(entry.Name)}]", entry.Value).Int();
            if (!vocabulary.TryAdd(entry.Name, id))
                throw vocabularyCursor.Error($"the token {JsonSerializer.Serialize(entry.Name)} appears twice");
        }

        var merges = new List<string>();
        var pairs = new List<(string, string)>();
        if (model.Optional("merges") is { } mergesCursor)
        {
            mergesCursor.ExpectKind(JsonValueKind.Array);
            var index = 0;
            foreach (var element in mergesCursor.Element.EnumerateArray())
            {
                var merge = ReadMerge(element, vocabulary);
                merges.Add(merge ?? throw MergeError(new JsonCursor(model.File, $"{mergesCursor.Path}[{index}]", element), vocabulary));
                var space = merge.IndexOf(' ');
                pairs.Add((merge[..space], merge[(space + 1)..]));
                index++;
            }
        }
        return new BpeModel(vocabulary, merges, pairs, unknownToken, ignoreMerges, byteFallback, fuseUnknown);
    }

    /// <summary>"a b" for a valid merge (older files write "a b", newer ones ["a", "b"]; the library takes
    /// "a b"), null when anything is wrong (<see cref="MergeError"/> then says what).</summary>
    static string? ReadMerge(JsonElement element, Dictionary<string, int> vocabulary)
    {
        string? left = null, right = null;
        if (element.ValueKind == JsonValueKind.String)
        {
            var text = element.GetString()!;
            var space = text.IndexOf(' ');
            if (space > 0 && space < text.Length - 1 && text.IndexOf(' ', space + 1) < 0)
                (left, right) = (text[..space], text[(space + 1)..]);
        }
        else if (element.ValueKind == JsonValueKind.Array && element.GetArrayLength() == 2
                 && element[0].ValueKind == JsonValueKind.String && element[1].ValueKind == JsonValueKind.String)
        {
            (left, right) = (element[0].GetString()!, element[1].GetString()!);
            if (left.Contains(' ') || right.Contains(' ')) return null;
        }
        if (left is null || right is null) return null;
        return vocabulary.ContainsKey(left) && vocabulary.ContainsKey(right) && vocabulary.ContainsKey(left + right)
            ? left + " " + right : null;
    }

    static TokenizerFormatException MergeError(JsonCursor merge, Dictionary<string, int> vocabulary)
    {
        string[] parts;
        if (merge.Kind == JsonValueKind.String)
        {
            parts = merge.String().Split(' ');
            if (parts.Length != 2 || parts[0].Length == 0 || parts[1].Length == 0)
                return merge.Error($"expected two tokens separated by one space, found \"{merge.String()}\"");
        }
        else
        {
            parts = merge.Items().Select(p => p.String()).ToArray();
            if (parts.Length != 2) return merge.Error($"expected a pair of tokens, found {parts.Length} items");
            if (parts.Any(p => p.Contains(' ')))
                return merge.Error("a merge of tokens containing a space is not supported (byte-level vocabularies have none)");
        }
        var missing = new[] { parts[0], parts[1], parts[0] + parts[1] }.First(p => !vocabulary.ContainsKey(p));
        return merge.Error($"the token \"{missing}\" is not in model.vocab");
    }

    static List<AddedToken> ReadAddedTokens(JsonCursor? list)
    {
        var tokens = new List<AddedToken>();
        if (list is null) return tokens;
        foreach (var item in list.Value.Items())
        {
            // lstrip/rstrip/single_word change what text around a token is absorbed or whether it matches
            // inside words; Qwen and Llama 3 set none of them, so they are refused rather than half done.
            foreach (var flag in (string[])["lstrip", "rstrip", "single_word"])
                if (item.Optional(flag) is { } value && value.Bool())
                    throw value.Error($"added token {flag}=true is not supported (expected false)");
            var content = item.Required("content").String();
            if (content.Length == 0) throw item.Required("content").Error("an added token cannot be empty");
            tokens.Add(new AddedToken(
                item.Required("id").Int(),
                content,
                item.Optional("special")?.Bool() ?? false,
                item.Optional("normalized")?.Bool() ?? true));
        }
        return tokens;
    }

    static void ReadNormalizer(JsonCursor normalizer, List<NormalizerStep> steps)
    {
        var type = normalizer.Required("type").String();
        switch (type)
        {
            case "NFC":
                steps.Add(new NormalizerStep.Nfc());
                break;
            case "Prepend":
                steps.Add(new NormalizerStep.Prepend(normalizer.Required("prepend").String()));
                break;
            case "Replace":
                steps.Add(new NormalizerStep.Replace(StringPattern(normalizer.Required("pattern")), normalizer.Required("content").String()));
                break;
            case "Sequence":
                foreach (var inner in normalizer.Required("normalizers").Items()) ReadNormalizer(inner, steps);
                break;
            default:
                throw normalizer.Required("type").Error($"normalizer \"{type}\" is not supported (supported: NFC, Prepend, Replace of a string, a Sequence of these)");
        }
    }

    /// <summary>A Replace pattern: <c>{"String": " "}</c>; a regex pattern is refused.</summary>
    static string StringPattern(JsonCursor pattern)
    {
        if (pattern.Optional("String") is { } literal && literal.String().Length > 0) return literal.String();
        throw pattern.Error($"expected {{\"String\": <non-empty text>}}, found {pattern.Element.GetRawText()} (a Regex pattern is not supported here)");
    }

    /// <summary>A Split on the literal " " (any behavior, not inverted) after a normalizer whose last step that writes
    /// text is a Replace of " " by text without a space: no space is left to split on, so the split does nothing
    /// (Gemma's released tokenizer.json; transformers removed it as redundant, huggingface/transformers#43062).</summary>
    static bool SplitsOnRemovedSpaces(JsonCursor split, IReadOnlyList<NormalizerStep> normalizers)
    {
        if (split.Required("pattern").Optional("String") is not { } literal || literal.String() != " ") return false;
        if (split.Optional("invert") is { } invert && invert.Bool()) return false;
        for (int i = normalizers.Count - 1; i >= 0; i--)
            switch (normalizers[i])
            {
                case NormalizerStep.Replace { Pattern: " " } r: return !r.Content.Contains(' ');
                case NormalizerStep.Replace r when r.Content.Contains(' '): return false;
                case NormalizerStep.Prepend p when p.Text.Contains(' '): return false;
            }
        return false;
    }

    /// <summary>The split regexes, and whether a ByteLevel pre-tokenizer makes this a byte-level model.</summary>
    static (List<string> Splits, bool ByteLevel) ReadPreTokenizer(JsonCursor preTokenizer, IReadOnlyList<NormalizerStep> normalizers)
    {
        var splits = new List<string>();
        var byteLevelSeen = false;
        Visit(preTokenizer);
        return (splits, byteLevelSeen);

        void Visit(JsonCursor node)
        {
            var typeCursor = node.Required("type");
            switch (typeCursor.String())
            {
                case "Sequence":
                    foreach (var inner in node.Required("pretokenizers").Items()) Visit(inner);
                    break;
                case "Split" when SplitsOnRemovedSpaces(node, normalizers):
                    break; // Gemma's Split(" ", MergedWithPrevious): its normalizer leaves no space to split on
                case "Split":
                    {
                        var behavior = node.Required("behavior").String();
                        if (behavior != "Isolated")
                            throw node.Required("behavior").Error($"Split behavior \"{behavior}\" is not supported (expected \"Isolated\")");
                        if (node.Optional("invert") is { } invert && invert.Bool())
                            throw invert.Error("Split invert=true is not supported (expected false)");
                        var pattern = node.Required("pattern");
                        string regex;
                        if (pattern.Optional("Regex") is { } r) regex = r.String();
                        else if (pattern.Optional("String") is { } s) regex = EscapeLiteral(s.String());
                        else throw pattern.Error("expected {\"Regex\": ...} or {\"String\": ...}");
                        try
                        {
                            _ = CodePointRegex.Translate(regex);
                        }
                        catch (NotSupportedException e)
                        {
                            throw pattern.Error(e.Message);
                        }
                        splits.Add(regex);
                        break;
                    }
                case "ByteLevel":
                    if (byteLevelSeen) throw node.Error("a second ByteLevel pre-tokenizer is not supported");
                    byteLevelSeen = true;
                    if (node.Optional("add_prefix_space") is { } prefix && prefix.Bool())
                        throw prefix.Error("ByteLevel add_prefix_space=true is not supported (expected false)");
                    if (node.Optional("use_regex")?.Bool() ?? true) splits.Add(ByteLevelRegex);
                    break;
                case var other:
                    throw typeCursor.Error($"pre-tokenizer \"{other}\" is not supported (supported: Split with a regex and behavior Isolated, ByteLevel, Sequence of these, or none)");
            }
        }
    }

    static string EscapeLiteral(string text) =>
        string.Concat(text.Select(c => char.IsAsciiLetterOrDigit(c) ? c.ToString() : $"\\x{{{(int)c:X}}}"));

    static void ReadByteLevelDecoder(JsonCursor decoder)
    {
        var type = decoder.Required("type");
        if (type.String() != "ByteLevel")
            throw type.Error($"decoder \"{type.String()}\" is not supported with a ByteLevel pre-tokenizer (expected \"ByteLevel\")");
    }

    static void ReadDecoder(JsonCursor decoder, List<DecoderStep> steps)
    {
        var type = decoder.Required("type");
        switch (type.String())
        {
            case "Replace":
                steps.Add(new DecoderStep.Replace(StringPattern(decoder.Required("pattern")), decoder.Required("content").String()));
                break;
            case "ByteFallback":
                steps.Add(new DecoderStep.ByteFallback());
                break;
            case "Fuse":
                steps.Add(new DecoderStep.Fuse());
                break;
            case "Strip":
                {
                    var content = decoder.Required("content");
                    if (content.String().Length != 1) throw content.Error($"expected one character, found {content.Describe()}");
                    steps.Add(new DecoderStep.Strip(content.String()[0], decoder.Required("start").Int(), decoder.Required("stop").Int()));
                    break;
                }
            case "Sequence":
                foreach (var inner in decoder.Required("decoders").Items()) ReadDecoder(inner, steps);
                break;
            case "ByteLevel":
                throw type.Error("decoder \"ByteLevel\" without a ByteLevel pre-tokenizer is not supported");
            case var other:
                throw type.Error($"decoder \"{other}\" is not supported (supported: ByteLevel with a ByteLevel pre-tokenizer; otherwise Replace, ByteFallback, Fuse, Strip, a Sequence of these)");
        }
    }

    static PostProcessorTemplate? ReadPostProcessor(JsonCursor post)
    {
        var type = post.Required("type");
        switch (type.String())
        {
            case "ByteLevel":
                return null; // only adjusts offsets
            case "Sequence":
                {
                    PostProcessorTemplate? template = null;
                    foreach (var inner in post.Required("processors").Items())
                        if (ReadPostProcessor(inner) is { } found)
                            template = template is null ? found : throw inner.Error("more than one TemplateProcessing is not supported");
                    return template;
                }
            case "TemplateProcessing":
                {
                    var specialTokens = post.Required("special_tokens");
                    var prefix = new List<int>();
                    var suffix = new List<int>();
                    var sequenceSeen = false;
                    foreach (var piece in post.Required("single").Items())
                    {
                        if (piece.Optional("Sequence") is { } sequence)
                        {
                            if (sequence.Required("id").String() != "A" || sequenceSeen)
                                throw sequence.Error("expected a single template with one sequence \"A\"");
                            sequenceSeen = true;
                        }
                        else if (piece.Optional("SpecialToken") is { } special)
                        {
                            var name = special.Required("id").String();
                            var entry = specialTokens.Optional(name) ?? throw special.Error($"'{name}' is not in special_tokens");
                            (sequenceSeen ? suffix : prefix).AddRange(entry.Required("ids").Items().Select(id => id.Int()));
                        }
                        else throw piece.Error("expected {\"SpecialToken\": ...} or {\"Sequence\": ...}");
                    }
                    if (!sequenceSeen) throw post.Required("single").Error("the template has no sequence \"A\"");
                    return new PostProcessorTemplate(prefix, suffix);
                }
            case var other:
                throw type.Error($"post-processor \"{other}\" is not supported (supported: ByteLevel, TemplateProcessing, Sequence of these)");
        }
    }
}

using RaftPipeline.Export.Source;
using RaftPipeline.Text.Tokenization;

namespace RaftPipeline.Export.Tokenizer;

/// <summary>
/// A SentencePiece-style BPE tokenizer.json ("▁" for spaces, optionally byte fallback: Llama 2's, Mistral's, Gemma's)
/// described as llama.cpp's "llama" (SPM) vocabulary, as convert_hf_to_gguf does for a folder without tokenizer.model
/// (LlamaHfVocab): tokens by id with scores and types NORMAL, UNKNOWN, CONTROL, USER_DEFINED, BYTE (&lt;0xNN&gt;),
/// UNUSED for padding ids.
/// <para>
/// The scores decide llama.cpp's tokenization (llama-vocab.cpp, llm_tokenizer_spm): it repeatedly merges the adjacent
/// pair whose concatenation is the vocabulary token of highest score, leftmost on ties. Hugging Face's BPE merges the
/// pair of lowest merge rank, leftmost on ties. LlamaHfVocab gives every token -1000, which makes llama.cpp merge
/// left to right instead; here a token made by a merge scores minus the rank of the first merge that makes it, so
/// both pick the same pair whenever the pair llama.cpp finds is a merge. That holds for tokenizers converted from a
/// SentencePiece model (their merges list every pair of tokens that concatenate to a token, ordered by score);
/// tokens no merge makes score below all others.
/// </para>
/// <para>
/// What llama.cpp's SPM tokenizer cannot do is refused: a split pre-tokenizer, a normalizer other than
/// Replace(" " → "▁") optionally after Prepend("▁") (llama.cpp's add_space_prefix, which prepends at the start and
/// after each special token, as the normalizer does to each text piece between added tokens), ignore_merges, and
/// byte fallback without all 256 &lt;0xNN&gt; tokens. Without byte fallback, text outside the vocabulary is where the
/// two differ: Hugging Face gives &lt;unk&gt;, llama.cpp has no byte token to fall back to.
/// </para>
/// </summary>
public static class SentencePieceVocabulary
{
    const string Mark = "\u2581";

    public static GgufTokenizer Describe(TokenizerDefinition def, TokenizerConfig tc, ExportModelConfig config, string path,
        IReadOnlyList<(string Name, string Template)> chatTemplates)
    {
        if (def.SplitPatterns.Count > 0)
            throw new ExportException(path, "is a SentencePiece-style BPE with a split pre-tokenizer; llama.cpp's SPM tokenizer " +
                "splits nothing (expected no pre_tokenizer)");
        bool addSpacePrefix = def.Normalizers switch
        {
            [NormalizerStep.Replace { Pattern: " ", Content: Mark }] => false,
            [NormalizerStep.Prepend { Text: Mark }, NormalizerStep.Replace { Pattern: " ", Content: Mark }] => true,
            _ => throw new ExportException(path, "is a SentencePiece-style BPE whose normalizer llama.cpp's SPM tokenizer does not " +
                $"reproduce ({string.Join(", ", def.Normalizers)}); expected Replace(\" \" → \"▁\"), optionally after Prepend(\"▁\")"),
        };
        if (def.IgnoreMerges)
            throw new ExportException(path, "has ignore_merges, which llama.cpp's SPM tokenizer does not apply");
        foreach (var t in def.AddedTokens)
            if (t.Normalized && (t.Content.Contains(' ') || t.Content.Contains(Mark, StringComparison.Ordinal)))
                throw new ExportException(path, $"added token '{t.Content}' is matched after normalization, which llama.cpp does not do");
        if (def.ByteFallback)
            for (int b = 0; b < 256; b++)
                if (!def.Vocabulary.ContainsKey($"<0x{b:X2}>"))
                    throw new ExportException(path, $"has byte_fallback but no token <0x{b:X2}>; llama.cpp's byte fallback needs all 256");

        // The rank of the first merge that makes each token.
        var rankOf = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int rank = 0; rank < def.Merges.Count; rank++)
        {
            var parts = def.Merges[rank].Split(' ');
            if (parts.Length != 2)
                throw new ExportException(path, $"merge {rank} '{def.Merges[rank]}' is not two tokens");
            rankOf.TryAdd(parts[0] + parts[1], rank);
        }

        var (byId, added) = GgufTokenizer.TokensById(def, config, path);

        var (bos, eos, pad, unk, addBos, addEos) = GgufTokenizer.SpecialIds(def, tc, config);
        var tokens = new string[config.VocabSize];
        var types = new int[config.VocabSize];
        var scores = new float[config.VocabSize];
        float unmerged = -(def.Merges.Count + 1);
        for (int i = 0; i < config.VocabSize; i++)
        {
            scores[i] = unmerged;
            if (!byId.TryGetValue(i, out var text))
            {
                tokens[i] = $"[PAD{i}]";
                types[i] = GgufTokenizer.TypeUnused;
                continue;
            }
            tokens[i] = text;
            if (rankOf.TryGetValue(text, out var rank)) scores[i] = -rank;
            types[i] = i == unk ? GgufTokenizer.TypeUnknown
                : added.TryGetValue(i, out var a) ? (a.Special || GgufTokenizer.LooksSpecial(text) ? GgufTokenizer.TypeControl : GgufTokenizer.TypeUserDefined)
                : def.ByteFallback && DecoderStep.ByteFallback.TryParseByteToken(text, out _) ? GgufTokenizer.TypeByte
                : GgufTokenizer.TypeNormal;
        }

        return new GgufTokenizer
        {
            Model = "llama",
            Pre = "default",
            Tokens = tokens,
            TokenTypes = types,
            Scores = scores,
            AddSpacePrefix = addSpacePrefix,
            BosId = bos,
            EosId = eos,
            PadId = pad,
            UnkId = unk,
            AddBos = addBos,
            AddEos = addEos,
            ChatTemplates = chatTemplates,
            Note = def.ByteFallback ? null
                : "no byte fallback: text with a character outside the vocabulary, which the model's tokenizer encodes as <unk>, " +
                  "makes llama.cpp's tokenizer fail (it has no <0xNN> token to fall back to)",
        };
    }
}

using System.Text;
using Microsoft.ML.Tokenizers;

namespace RaftPipeline.Text.Tokenization;

/// <summary>
/// Hugging Face's BPE model step (<c>tokenizers::models::bpe::BPE::tokenize</c>) for one pre-token, around the
/// library's merge loop: the <c>ignore_merges</c> whole-word shortcut (Llama 3), and for SentencePiece-style
/// vocabularies the per-character lookup with <c>byte_fallback</c> to <c>&lt;0xNN&gt;</c> tokens and (fused)
/// unknown tokens (Llama 2, Mistral).
/// </summary>
/// <remarks>
/// Microsoft.ML.Tokenizers' <see cref="BpeTokenizer"/> has neither option and no per-word hook (its word cache
/// and merge loop are private), so this wraps it: <paramref name="wordBpe"/> is a BpeTokenizer built with no
/// normalizer and no pre-tokenizer, so one call encodes exactly one word with the library's merges. Characters
/// outside the vocabulary are cut out before it sees the word; that is exact because the loader refuses files
/// whose merges involve the unknown or byte tokens (<see cref="TokenizerJsonReader"/>), so no merge can reach
/// across such a character.
/// </remarks>
internal sealed class BpeWordEncoder
{
    readonly BpeTokenizer _wordBpe;
    readonly IReadOnlyDictionary<string, int> _vocabulary;
    readonly bool _byteLevel;
    readonly bool _ignoreMerges;
    readonly bool _fuseUnknown;
    readonly int? _unknownId;
    readonly int[]? _byteIds;

    public BpeWordEncoder(BpeTokenizer wordBpe, TokenizerDefinition definition)
    {
        _wordBpe = wordBpe;
        _vocabulary = definition.Vocabulary;
        _byteLevel = definition.ByteLevel;
        _ignoreMerges = definition.IgnoreMerges;
        _fuseUnknown = definition.FuseUnknownTokens;
        _unknownId = definition.UnknownToken is { } unk && _vocabulary.TryGetValue(unk, out var id) ? id : null;
        if (definition.ByteFallback)
        {
            _byteIds = new int[256];
            for (var b = 0; b < 256; b++) _byteIds[b] = _vocabulary.TryGetValue($"<0x{b:X2}>", out var byteId) ? byteId : -1;
        }
    }

    /// <summary>Appends the ids of one pre-token (never an added token) to <paramref name="ids"/>.</summary>
    public void Encode(ReadOnlySpan<char> word, List<int> ids)
    {
        if (word.IsEmpty) return;
        if (_ignoreMerges && _vocabulary.TryGetValue(_byteLevel ? ByteLevelAlphabet.Encode(word) : word.ToString(), out var whole))
        {
            ids.Add(whole);
            return;
        }
        if (_byteLevel)
        {
            // Every byte has a character in a byte-level vocabulary: the library handles the whole word.
            ids.AddRange(_wordBpe.EncodeToIds(word));
            return;
        }
        EncodeCharacters(word, ids);
    }

    /// <summary>tokenizers' <c>merge_word</c>: known characters are symbols; an unknown one becomes its byte
    /// tokens when all exist, else the unknown token (one for a run when fused); its quirk is kept too: a pending
    /// fused unknown token is written only when the next known character (or the end) comes.</summary>
    void EncodeCharacters(ReadOnlySpan<char> word, List<int> ids)
    {
        var stretchStart = 0;
        var unknownPending = false;
        Span<byte> utf8 = stackalloc byte[4];
        var position = 0;
        while (position < word.Length)
        {
            var length = char.IsHighSurrogate(word[position]) && position + 1 < word.Length && char.IsLowSurrogate(word[position + 1]) ? 2 : 1;
            var character = word.Slice(position, length);
            if (IsKnown(character))
            {
                if (unknownPending)
                {
                    ids.Add(_unknownId!.Value);
                    unknownPending = false;
                    stretchStart = position;
                }
                position += length;
                continue;
            }

            FlushStretch(word[stretchStart..position], ids);
            position += length;
            stretchStart = position;
            if (_byteIds is not null)
            {
                var count = Encoding.UTF8.GetBytes(character, utf8);
                var all = true;
                for (var i = 0; i < count; i++) all &= _byteIds[utf8[i]] >= 0;
                if (all)
                {
                    for (var i = 0; i < count; i++) ids.Add(_byteIds[utf8[i]]);
                    continue;
                }
            }
            if (_unknownId is null) continue; // tokenizers drops the character when there is no unknown token
            if (unknownPending && !_fuseUnknown) ids.Add(_unknownId.Value);
            unknownPending = true;
        }
        FlushStretch(word[stretchStart..], ids);
        if (unknownPending) ids.Add(_unknownId!.Value);
    }

    bool IsKnown(ReadOnlySpan<char> character) =>
        _vocabulary is Dictionary<string, int> dictionary
            ? dictionary.GetAlternateLookup<ReadOnlySpan<char>>().ContainsKey(character)
            : _vocabulary.ContainsKey(character.ToString());

    void FlushStretch(ReadOnlySpan<char> stretch, List<int> ids)
    {
        if (!stretch.IsEmpty) ids.AddRange(_wordBpe.EncodeToIds(stretch));
    }
}

using RaftPipeline.Text.Tokenization;

namespace RaftPipeline.Modeling.Chat;

/// <summary>
/// Turns generated ids into text as they arrive without splitting a character: a Korean syllable is three UTF-8
/// bytes that byte-level BPE may spread over several tokens, and decoding such a partial sequence ends in U+FFFD.
/// Text is released only when the decoded window ends in a whole character (the prefix/read offsets of
/// text-generation-inference's incremental decoding), so the pieces concatenate to <see cref="Decode"/> of all ids.
/// </summary>
public sealed class StreamingDecoder(HuggingFaceTokenizer tokenizer)
{
    readonly List<int> _ids = [];
    int _prefixOffset; // start of the window re-decoded each step (a character boundary)
    int _readOffset;   // end of what has been released

    public IReadOnlyList<int> Ids => _ids;

    /// <summary>Adds a token; returns the text it completes ("" while a character is still partial).</summary>
    public string Push(int id)
    {
        _ids.Add(id);
        var released = Decode(tokenizer, _ids.Skip(_prefixOffset).Take(_readOffset - _prefixOffset));
        var window = Decode(tokenizer, _ids.Skip(_prefixOffset));
        if (window.Length <= released.Length || window.EndsWith('\uFFFD')) return "";
        _prefixOffset = _readOffset;
        _readOffset = _ids.Count;
        return window[released.Length..];
    }

    /// <summary>Whatever is held back at the end (a partial character decodes as U+FFFD, as a full decode does).</summary>
    public string Flush()
    {
        var released = Decode(tokenizer, _ids.Skip(_prefixOffset).Take(_readOffset - _prefixOffset));
        var window = Decode(tokenizer, _ids.Skip(_prefixOffset));
        _prefixOffset = _readOffset = _ids.Count;
        return window.Length > released.Length ? window[released.Length..] : "";
    }

    /// <summary>
    /// The text shown for generated ids: special tokens skipped (transformers' text-generation pipeline default),
    /// and ids the tokenizer does not know dropped (the tokenizer drops them, as Hugging Face tokenizers' decode does).
    /// A model's embedding may be larger than its tokenizer (Qwen3: 151,936 rows, 151,669 tokens), so an untrained
    /// model can produce such ids.
    /// </summary>
    public static string Decode(HuggingFaceTokenizer tokenizer, IEnumerable<int> ids) => tokenizer.Decode(ids, skipSpecialTokens: true);
}

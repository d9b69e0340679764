using System.Text;

namespace RaftPipeline.Text.Tokenization;

/// <summary>
/// GPT-2's byte → character table that byte-level vocabularies are written in ("Ġ" is the space byte): the
/// printable Latin-1 bytes stand for themselves, the other 68 bytes map to U+0100 upwards in byte order.
/// </summary>
/// <remarks>Microsoft.ML.Tokenizers applies this table inside BpeTokenizer but does not expose it; the
/// ignore_merges lookup needs a pre-token in vocabulary form before BPE runs.</remarks>
public static class ByteLevelAlphabet
{
    static readonly char[] s_byteToChar = Build();

    public static char ForByte(byte value) => s_byteToChar[value];

    /// <summary>The text's UTF-8 bytes written in the byte-level alphabet.</summary>
    public static string Encode(ReadOnlySpan<char> text)
    {
        var byteCount = Encoding.UTF8.GetByteCount(text);
        Span<byte> bytes = byteCount <= 256 ? stackalloc byte[byteCount] : new byte[byteCount];
        Encoding.UTF8.GetBytes(text, bytes);
        return string.Create(byteCount, bytes.ToArray(), static (chars, source) =>
        {
            for (var i = 0; i < source.Length; i++) chars[i] = s_byteToChar[source[i]];
        });
    }

    static char[] Build()
    {
        var table = new char[256];
        var next = 256;
        for (var b = 0; b < 256; b++)
        {
            var printable = b is >= '!' and <= '~' or >= '¡' and <= '¬' or >= '®' and <= 'ÿ';
            table[b] = printable ? (char)b : (char)next++;
        }
        return table;
    }
}

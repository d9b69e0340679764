using System.Globalization;
using System.Text;

namespace RaftPipeline.Text.Tokenization;

/// <summary>
/// One supported tokenizer.json decoder for non-byte-level models, with tokenizers' <c>decode_chain</c>
/// semantics: each step maps the list of token strings to a new list; the result is their concatenation.
/// </summary>
/// <remarks>Microsoft.ML.Tokenizers' BpeTokenizer decodes by concatenating vocabulary strings (and its
/// SentencePiece tokenizer only loads .model protobuf files), so SentencePiece-style tokenizer.json decoders
/// (Replace "▁" → " ", ByteFallback, Fuse, Strip) are done here.</remarks>
public abstract record DecoderStep
{
    public abstract List<string> DecodeChain(List<string> tokens);

    /// <summary><c>{"type": "Replace", "pattern": {"String": "▁"}, "content": " "}</c>, in every token.</summary>
    public sealed record Replace(string Pattern, string Content) : DecoderStep
    {
        public override List<string> DecodeChain(List<string> tokens) =>
            tokens.Select(t => t.Replace(Pattern, Content, StringComparison.Ordinal)).ToList();
    }

    /// <summary><c>{"type": "ByteFallback"}</c>: runs of <c>&lt;0xNN&gt;</c> tokens become the text of their
    /// bytes, or one U+FFFD per byte when the run is not valid UTF-8.</summary>
    public sealed record ByteFallback : DecoderStep
    {
        static readonly UTF8Encoding s_strictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

        public override List<string> DecodeChain(List<string> tokens)
        {
            var output = new List<string>(tokens.Count);
            var bytes = new List<byte>();
            foreach (var token in tokens)
            {
                if (TryParseByteToken(token, out var value))
                {
                    bytes.Add(value);
                    continue;
                }
                Flush();
                output.Add(token);
            }
            Flush();
            return output;

            void Flush()
            {
                if (bytes.Count == 0) return;
                try
                {
                    output.Add(s_strictUtf8.GetString(bytes.ToArray()));
                }
                catch (DecoderFallbackException)
                {
                    output.AddRange(Enumerable.Repeat("\uFFFD", bytes.Count));
                }
                bytes.Clear();
            }
        }

        /// <summary>tokenizers' test: six UTF-8 bytes, "&lt;0x" + two hex digits (either case) + "&gt;".</summary>
        public static bool TryParseByteToken(string token, out byte value)
        {
            value = 0;
            return token.Length == 6 && token.StartsWith("<0x", StringComparison.Ordinal) && token[5] == '>'
                && byte.TryParse(token.AsSpan(3, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out value);
        }
    }

    /// <summary><c>{"type": "Fuse"}</c>: all tokens become one.</summary>
    public sealed record Fuse : DecoderStep
    {
        public override List<string> DecodeChain(List<string> tokens) => [string.Concat(tokens)];
    }

    /// <summary><c>{"type": "Strip", "content": " ", "start": 1, "stop": 0}</c>: removes up to Start leading and
    /// up to Stop trailing occurrences of the character from every token.</summary>
    public sealed record Strip(char Content, int Start, int Stop) : DecoderStep
    {
        public override List<string> DecodeChain(List<string> tokens) => tokens.Select(StripOne).ToList();

        string StripOne(string token)
        {
            var begin = 0;
            while (begin < Start && begin < token.Length && token[begin] == Content) begin++;
            var end = token.Length;
            while (token.Length - end < Stop && end > begin && token[end - 1] == Content) end--;
            return token[begin..end];
        }
    }
}

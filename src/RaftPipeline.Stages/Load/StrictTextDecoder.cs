using System.Text;

namespace RaftPipeline.Stages.Load;

/// <summary>
/// Decodes a whole file with throwing decoders: bytes that are not valid in the encoding become an error naming the
/// file, the position and the byte offset, never replacement characters or mojibake.
/// </summary>
public static class StrictTextDecoder
{
    private static readonly byte[] Utf8Bom = [0xEF, 0xBB, 0xBF];
    private static readonly byte[] Utf16LEBom = [0xFF, 0xFE];
    private static readonly byte[] Utf16BEBom = [0xFE, 0xFF];

    static StrictTextDecoder() => System.Text.Encoding.RegisterProvider(CodePagesEncodingProvider.Instance);

    public static DecodedText Decode(string file, byte[] bytes, TextEncodingKind declared, TextPositionDescriber describe)
    {
        var bom = DetectBom(bytes);
        if (declared == TextEncodingKind.Auto)
            return DecodeAuto(file, bytes, bom, describe);
        if (declared == TextEncodingKind.Utf16)
            declared = bom == TextEncodingKind.Utf16BE ? TextEncodingKind.Utf16BE : TextEncodingKind.Utf16LE;

        if (bom is { } found && found != declared)
            throw new DatasetLoadException(
                $"{file}: declared {TextEncodingNames.Display(declared)} but the file starts with a " +
                $"{TextEncodingNames.Display(found)} byte order mark; this file looks like {Pretty(found)}");

        // UTF-8 Korean bytes often decode as cp949 without a single invalid byte, into garbage. A file that is
        // valid UTF-8 and has any non-ASCII byte is all but certainly UTF-8: refuse it rather than train on mojibake.
        if (declared is TextEncodingKind.Cp949 or TextEncodingKind.EucKr
            && TryDecode(bytes, 0, TextEncodingKind.Utf8, out var asUtf8, out _)
            && FirstNonAscii(asUtf8) is int index)
        {
            throw new DatasetLoadException(
                $"{file}: declared {TextEncodingNames.Display(declared)} but this file looks like UTF-8: it is valid UTF-8 " +
                $"and its first non-ASCII character '{asUtf8[index]}' is at {describe(asUtf8[..index])}, byte offset " +
                $"{Encoding(TextEncodingKind.Utf8).GetByteCount(asUtf8.AsSpan(0, index))}; declare encoding utf-8 or auto");
        }

        int start = bom is null ? 0 : BomLength(bom.Value);
        if (!TryDecode(bytes, start, declared, out var text, out var failure))
        {
            var message = FailureMessage(file, declared, failure, describe);
            // The usual mistake is the other of the two encodings Korean data comes in: say which one would work.
            if (declared == TextEncodingKind.Utf8 && TryDecode(bytes, 0, TextEncodingKind.Cp949, out _, out _))
                message += "; the whole file decodes cleanly as cp949: declare encoding cp949";
            else if (declared == TextEncodingKind.EucKr && TryDecode(bytes, 0, TextEncodingKind.Cp949, out _, out _))
                message += "; euc-kr has no UHC extension syllables but the whole file decodes cleanly as cp949: declare encoding cp949";
            throw new DatasetLoadException(message);
        }

        return new DecodedText(text, declared, bom is null ? "declared" : "declared, byte order mark skipped");
    }

    private static DecodedText DecodeAuto(string file, byte[] bytes, TextEncodingKind? bom, TextPositionDescriber describe)
    {
        if (bom is { } kind)
        {
            if (!TryDecode(bytes, BomLength(kind), kind, out var withBom, out var bomFailure))
                throw new DatasetLoadException(FailureMessage(file, kind, bomFailure, describe) + " (chosen by its byte order mark)");
            return new DecodedText(withBom, kind, "byte order mark");
        }
        if (TryDecode(bytes, 0, TextEncodingKind.Utf8, out var utf8, out var utf8Failure))
            return new DecodedText(utf8, TextEncodingKind.Utf8, "valid UTF-8");
        if (TryDecode(bytes, 0, TextEncodingKind.Cp949, out var cp949, out var cp949Failure))
            return new DecodedText(cp949, TextEncodingKind.Cp949, "not valid UTF-8, decodes cleanly as cp949");
        throw new DatasetLoadException(
            $"{file}: encoding auto: the file is neither UTF-8 ({Where(utf8Failure, describe)}) nor cp949 " +
            $"({Where(cp949Failure, describe)}); declare its encoding");
    }

    /// <summary>Where decoding stopped and why; <see cref="ValidPrefix"/> is the text decoded before it.</summary>
    private sealed record Failure(long ByteOffset, byte[] Bytes, string ValidPrefix, string Reason);

    private static bool TryDecode(byte[] bytes, int start, TextEncodingKind kind, out string text, out Failure failure)
    {
        var encoding = Encoding(kind);
        text = "";
        failure = null!;
        if (kind is TextEncodingKind.Utf16LE or TextEncodingKind.Utf16BE && (bytes.Length - start) % 2 != 0)
        {
            int last = bytes.Length - 1;
            failure = new Failure(last, [bytes[last]], DecodePrefix(bytes, start, last, kind), "an odd number of bytes cannot be UTF-16");
            return false;
        }
        try
        {
            text = encoding.GetString(bytes, start, bytes.Length - start);
        }
        catch (DecoderFallbackException e)
        {
            int offset = start + BadSequenceStart(bytes.AsSpan(start), e);
            string valid = DecodePrefix(bytes, start, offset, kind);
            // A character before the invalid bytes may itself betray an undefined byte: report the first problem.
            if (FirstSuspiciousChar(valid, kind) < 0)
            {
                failure = new Failure(offset, e.BytesUnknown ?? [], valid, "");
                return false;
            }
            text = valid;
        }

        int suspicious = FirstSuspiciousChar(text, kind);
        if (suspicious >= 0)
        {
            string prefix = text[..suspicious];
            long offset = start + encoding.GetByteCount(prefix);
            var charBytes = encoding.GetBytes(text.Substring(suspicious, char.IsHighSurrogate(text[suspicious]) ? 2 : 1));
            string reason = text[suspicious] == '\0' ? "a NUL character; text files have none (UTF-16 without a byte order mark?)" : "";
            failure = new Failure(offset, charBytes, prefix, reason);
            text = "";
            return false;
        }
        return true;
    }

    /// <summary>
    /// Where the unknown bytes start, relative to the decoded span. UTF-8 and code page decoders report the index of
    /// the first bad byte; .NET's UTF-16 decoder reports the index just past them (measured on .NET 10): accept
    /// whichever reading matches the bytes.
    /// </summary>
    private static int BadSequenceStart(ReadOnlySpan<byte> span, DecoderFallbackException e)
    {
        var unknown = e.BytesUnknown ?? [];
        int index = e.Index;
        if (index >= 0 && index + unknown.Length <= span.Length && span.Slice(index, unknown.Length).SequenceEqual(unknown))
            return index;
        if (index - unknown.Length >= 0 && span.Slice(index - unknown.Length, unknown.Length).SequenceEqual(unknown))
            return index - unknown.Length;
        return Math.Clamp(index, 0, span.Length);
    }

    /// <summary>
    /// Characters that decode "successfully" but betray bytes the encoding does not define. .NET's code page 949
    /// maps the undefined single bytes 0x80 and 0xFF to U+0080 and U+F8F7 and the user-defined area (e.g. C9 A1) to
    /// the Private Use Area, where Python's cp949 raises; strict EUC-KR maps UHC lead bytes to C1 controls.
    /// NUL is refused in every encoding: it is what UTF-16 read as a single-byte encoding looks like.
    /// </summary>
    private static int FirstSuspiciousChar(string text, TextEncodingKind kind)
    {
        bool korean = kind is TextEncodingKind.Cp949 or TextEncodingKind.EucKr;
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (c == '\0') return i;
            if (korean && (c is >= '\u0080' and <= '\u009F' || c is >= '\uE000' and <= '\uF8FF')) return i;
        }
        return -1;
    }

    private static string DecodePrefix(byte[] bytes, int start, long end, TextEncodingKind kind)
    {
        // Only for saying where (row and line): usually the bytes before the failure decoded cleanly, but not always (an
        // odd-length UTF-16 file is refused before decoding), so undecodable bytes become U+FFFD instead of throwing.
        int length = (int)end - start;
        if (kind is TextEncodingKind.Utf16LE or TextEncodingKind.Utf16BE) length -= length % 2;
        var lenient = System.Text.Encoding.GetEncoding(Encoding(kind).CodePage, EncoderFallback.ReplacementFallback, DecoderFallback.ReplacementFallback);
        return lenient.GetString(bytes, start, length);
    }

    private static string FailureMessage(string file, TextEncodingKind kind, Failure f, TextPositionDescriber describe) =>
        $"{file}: {describe(f.ValidPrefix)}, byte offset {f.ByteOffset}: " +
        (f.Reason.Length > 0 ? $"{Hex(f.Bytes)} is {f.Reason}" : $"bytes {Hex(f.Bytes)} are not valid {TextEncodingNames.Display(kind)}");

    private static string Where(Failure f, TextPositionDescriber describe) =>
        $"{describe(f.ValidPrefix)}, byte offset {f.ByteOffset}: bytes {Hex(f.Bytes)}";

    private static string Hex(byte[] bytes) => "[" + string.Join(" ", bytes.Select(b => b.ToString("X2"))) + "]";

    private static int? FirstNonAscii(string text)
    {
        for (int i = 0; i < text.Length; i++)
            if (text[i] > '\u007F') return i;
        return null;
    }

    private static TextEncodingKind? DetectBom(byte[] bytes) =>
        bytes.AsSpan().StartsWith(Utf8Bom) ? TextEncodingKind.Utf8
        : bytes.AsSpan().StartsWith(Utf16LEBom) ? TextEncodingKind.Utf16LE
        : bytes.AsSpan().StartsWith(Utf16BEBom) ? TextEncodingKind.Utf16BE
        : null;

    private static int BomLength(TextEncodingKind kind) => kind == TextEncodingKind.Utf8 ? 3 : 2;

    private static string Pretty(TextEncodingKind kind) => kind switch
    {
        TextEncodingKind.Utf8 => "UTF-8",
        TextEncodingKind.Utf16LE => "UTF-16 LE",
        TextEncodingKind.Utf16BE => "UTF-16 BE",
        _ => TextEncodingNames.Display(kind),
    };

    /// <summary>Throwing encodings: no replacement fallback anywhere.</summary>
    private static Encoding Encoding(TextEncodingKind kind) => kind switch
    {
        TextEncodingKind.Utf8 => new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true),
        TextEncodingKind.Utf16LE => new UnicodeEncoding(bigEndian: false, byteOrderMark: false, throwOnInvalidBytes: true),
        TextEncodingKind.Utf16BE => new UnicodeEncoding(bigEndian: true, byteOrderMark: false, throwOnInvalidBytes: true),
        TextEncodingKind.Cp949 => System.Text.Encoding.GetEncoding(949, EncoderFallback.ExceptionFallback, DecoderFallback.ExceptionFallback),
        TextEncodingKind.EucKr => System.Text.Encoding.GetEncoding(51949, EncoderFallback.ExceptionFallback, DecoderFallback.ExceptionFallback),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "no concrete encoding"),
    };
}

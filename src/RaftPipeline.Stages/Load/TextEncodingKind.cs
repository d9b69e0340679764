namespace RaftPipeline.Stages.Load;

/// <summary>How a data file's bytes are turned into text. Never guessed silently: <see cref="Auto"/> says what it found.</summary>
public enum TextEncodingKind
{
    /// <summary>Byte order mark, else strict UTF-8, else cp949 when the whole file decodes cleanly in it, else an error.</summary>
    Auto,
    Utf8,
    /// <summary>UTF-16 whose byte order mark says which end is first; little endian without one (Python's "utf-16").</summary>
    Utf16,
    /// <summary>UTF-16 little endian; a FF FE byte order mark is allowed and skipped.</summary>
    Utf16LE,
    /// <summary>UTF-16 big endian; a FE FF byte order mark is allowed and skipped.</summary>
    Utf16BE,
    /// <summary>Windows code page 949 (Unified Hangul Code): KS X 1001 plus the 8,822 extension syllables.</summary>
    Cp949,
    /// <summary>Strict EUC-KR (code page 51949, KS X 1001 only), as Python's "euc-kr" codec.</summary>
    EucKr,
}

public static class TextEncodingNames
{
    /// <summary>Spellings accepted in a spec, lower case; Python codec names where they exist.</summary>
    private static readonly Dictionary<string, TextEncodingKind> Names = new(StringComparer.OrdinalIgnoreCase)
    {
        ["auto"] = TextEncodingKind.Auto,
        ["utf-8"] = TextEncodingKind.Utf8,
        ["utf8"] = TextEncodingKind.Utf8,
        ["utf-8-sig"] = TextEncodingKind.Utf8,
        ["utf-16"] = TextEncodingKind.Utf16,
        ["utf-16le"] = TextEncodingKind.Utf16LE,
        ["utf-16-le"] = TextEncodingKind.Utf16LE,
        ["utf-16be"] = TextEncodingKind.Utf16BE,
        ["utf-16-be"] = TextEncodingKind.Utf16BE,
        ["cp949"] = TextEncodingKind.Cp949,
        ["ms949"] = TextEncodingKind.Cp949,
        ["uhc"] = TextEncodingKind.Cp949,
        ["ks_c_5601-1987"] = TextEncodingKind.Cp949,
        ["euc-kr"] = TextEncodingKind.EucKr,
        ["euckr"] = TextEncodingKind.EucKr,
    };

    public static TextEncodingKind Parse(string name) =>
        Names.TryGetValue(name.Trim(), out var kind)
            ? kind
            : throw new ArgumentException(
                $"unknown encoding '{name}'; expected one of: {string.Join(", ", Names.Keys)}", nameof(name));

    /// <summary>The canonical name used in messages and metrics.</summary>
    public static string Display(TextEncodingKind kind) => kind switch
    {
        TextEncodingKind.Auto => "auto",
        TextEncodingKind.Utf8 => "utf-8",
        TextEncodingKind.Utf16 => "utf-16",
        TextEncodingKind.Utf16LE => "utf-16le",
        TextEncodingKind.Utf16BE => "utf-16be",
        TextEncodingKind.Cp949 => "cp949",
        TextEncodingKind.EucKr => "euc-kr",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };
}

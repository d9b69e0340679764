using System.Text;
using RaftPipeline.Stages.Load;
using RaftPipeline.Stages.Tests.TestSupport;

namespace RaftPipeline.Stages.Tests.Load;

public class EncodingTests : IDisposable
{
    private const string Csv = "context,question,cot\r\n가,나,다\r\n";
    private readonly LoadTestFiles _files = new();
    public void Dispose() => _files.Dispose();

    private static byte[] Concat(params byte[][] parts) => parts.SelectMany(p => p).ToArray();

    [Fact]
    public void Bytes_invalid_in_cp949_name_the_row_line_and_byte_offset()
    {
        // Offsets: header 20 + CRLF = 22; "가,나,다" is 8 bytes + CRLF → row 3 starts at 32; "A," → the bad lead byte at 34.
        string path = _files.Bytes("bad.csv", Concat(Encodings.ToCp949(Csv), [0x41, 0x2C, 0xB0, 0x20, 0x2C, 0x78, 0x0D, 0x0A]));
        Assert.Equal($"{path}: row 3 (line 3), byte offset 34: bytes [B0 20] are not valid cp949", LoadTestFiles.Error(path, TextEncodingKind.Cp949));
    }

    [Fact]
    public void Bytes_that_dotnet_maps_to_control_or_private_use_characters_are_invalid_cp949()
    {
        // .NET's code page 949 turns 0x80 into U+0080 where Python's cp949 raises; refuse it as Python does.
        string path = _files.Bytes("c1.csv", Concat(Encodings.ToCp949(Csv), [0x41, 0x2C, 0x80, 0x2C, 0x78, 0x0A]));
        Assert.Equal($"{path}: row 3 (line 3), byte offset 34: bytes [80] are not valid cp949", LoadTestFiles.Error(path, TextEncodingKind.Cp949));

        // C9 A1 is in KS X 1001's user-defined area: .NET gives U+E000.
        string pua = _files.Bytes("pua.csv", Concat(Encodings.ToCp949(Csv), [0x41, 0x2C, 0xC9, 0xA1, 0x2C, 0x78, 0x0A]));
        Assert.Equal($"{pua}: row 3 (line 3), byte offset 34: bytes [C9 A1] are not valid cp949", LoadTestFiles.Error(pua, TextEncodingKind.Cp949));
    }

    [Fact]
    public void Utf8_declared_as_cp949_is_refused_with_a_hint_instead_of_decoded_into_mojibake()
    {
        string path = _files.Utf8("utf8.csv", Csv);
        Assert.Equal(
            $"{path}: declared cp949 but this file looks like UTF-8: it is valid UTF-8 and its first non-ASCII character '가' " +
            "is at row 2 (line 2), byte offset 22; declare encoding utf-8 or auto",
            LoadTestFiles.Error(path, TextEncodingKind.Cp949));
    }

    [Fact]
    public void Utf8_declared_as_cp949_is_refused_even_when_cp949_would_decode_it_without_errors()
    {
        // The check does not rely on cp949 rejecting some byte: it looks at whether the file is valid UTF-8.
        const string text = "context,question,cot\n한,b,c\n";
        var utf8 = Encodings.ToUtf8(text);
        string path = _files.Bytes("sneaky.csv", utf8);
        Assert.Contains("this file looks like UTF-8", LoadTestFiles.Error(path, TextEncodingKind.Cp949));
    }

    [Fact]
    public void Cp949_declared_as_utf8_names_the_offset_and_suggests_cp949()
    {
        string path = _files.Cp949("cp.csv", Csv);
        Assert.Equal(
            $"{path}: row 2 (line 2), byte offset 22: bytes [B0] are not valid utf-8; the whole file decodes cleanly as cp949: declare encoding cp949",
            LoadTestFiles.Error(path, TextEncodingKind.Utf8));
    }

    [Fact]
    public void Euc_kr_is_strict_and_points_to_cp949_for_extension_syllables()
    {
        // 똠 is one of UHC's extension syllables (8C 63), outside KS X 1001.
        string path = _files.Cp949("uhc.csv", "context,question,cot\r\n똠,나,다\r\n");
        Assert.Equal(
            $"{path}: row 2 (line 2), byte offset 22: bytes [8C] are not valid euc-kr; euc-kr has no UHC extension syllables " +
            "but the whole file decodes cleanly as cp949: declare encoding cp949",
            LoadTestFiles.Error(path, TextEncodingKind.EucKr));
        string plain = _files.Cp949("ksx.csv", Csv);
        Assert.Equal("가", LoadTestFiles.Read(plain, TextEncodingKind.EucKr).Rows.Single().Context);
    }

    [Fact]
    public void Utf16_little_and_big_endian_with_and_without_byte_order_mark()
    {
        var le = new UnicodeEncoding(bigEndian: false, byteOrderMark: false);
        var be = new UnicodeEncoding(bigEndian: true, byteOrderMark: false);
        Assert.Equal("가", LoadTestFiles.Read(_files.Bytes("le.csv", le.GetBytes(Csv)), TextEncodingKind.Utf16LE).Rows.Single().Context);
        Assert.Equal("가", LoadTestFiles.Read(_files.Bytes("leb.csv", Concat([0xFF, 0xFE], le.GetBytes(Csv))), TextEncodingKind.Utf16LE).Rows.Single().Context);
        var bom = LoadTestFiles.Read(_files.Bytes("be.csv", Concat([0xFE, 0xFF], be.GetBytes(Csv))), TextEncodingKind.Utf16BE);
        Assert.Equal(("가", "declared, byte order mark skipped"), (bom.Rows.Single().Context, bom.EncodingHow));
    }

    [Fact]
    public void Utf16_lets_the_byte_order_mark_choose_the_endianness()
    {
        var be = LoadTestFiles.Read(_files.Bytes("u16be.csv", Concat([0xFE, 0xFF], new UnicodeEncoding(true, false).GetBytes(Csv))), TextEncodingKind.Utf16);
        var le = LoadTestFiles.Read(_files.Bytes("u16le.csv", new UnicodeEncoding(false, false).GetBytes(Csv)), TextEncodingKind.Utf16);
        Assert.Equal(("utf-16be", "가"), (be.Encoding, be.Rows.Single().Context));
        Assert.Equal(("utf-16le", "가"), (le.Encoding, le.Rows.Single().Context));
    }

    [Fact]
    public void A_lone_surrogate_is_invalid_utf16()
    {
        var le = new UnicodeEncoding(false, false);
        // Header (20 chars = 40 bytes), LF (2 bytes), then "a," (4 bytes) → the lone high surrogate at 46.
        string path = _files.Bytes("lone.csv", Concat(le.GetBytes("context,question,cot\na,"), [0x00, 0xD8], le.GetBytes(",c\n")));
        Assert.Equal($"{path}: row 2 (line 2), byte offset 46: bytes [00 D8] are not valid utf-16le", LoadTestFiles.Error(path, TextEncodingKind.Utf16LE));
    }

    [Fact]
    public void Utf16_without_a_byte_order_mark_declared_as_utf8_is_caught_by_its_nul_bytes()
    {
        string path = _files.Bytes("u16.csv", new UnicodeEncoding(false, false).GetBytes(Csv));
        Assert.Equal(
            $"{path}: row 1 (line 1), byte offset 1: [00] is a NUL character; text files have none (UTF-16 without a byte order mark?)",
            LoadTestFiles.Error(path, TextEncodingKind.Utf8));
    }

    [Fact]
    public void A_byte_order_mark_that_contradicts_the_declared_encoding_is_an_error()
    {
        string path = _files.Bytes("bom.csv", Concat([0xEF, 0xBB, 0xBF], Encodings.ToUtf8(Csv)));
        Assert.Equal(
            $"{path}: declared cp949 but the file starts with a utf-8 byte order mark; this file looks like UTF-8",
            LoadTestFiles.Error(path, TextEncodingKind.Cp949));
    }

    [Fact]
    public void A_utf8_byte_order_mark_is_skipped_when_utf8_is_declared()
    {
        string path = _files.Bytes("bom8.csv", Concat([0xEF, 0xBB, 0xBF], Encodings.ToUtf8(Csv)));
        var file = LoadTestFiles.Read(path, TextEncodingKind.Utf8);
        Assert.Equal("가", file.Rows.Single().Context); // the header's first column is 'context', not '\uFEFFcontext'
    }

    [Theory]
    [InlineData("bom-utf8", "utf-8", "byte order mark")]
    [InlineData("bom-utf16le", "utf-16le", "byte order mark")]
    [InlineData("bom-utf16be", "utf-16be", "byte order mark")]
    [InlineData("utf8", "utf-8", "valid UTF-8")]
    [InlineData("cp949", "cp949", "not valid UTF-8, decodes cleanly as cp949")]
    public void Auto_detects_byte_order_marks_then_utf8_then_cp949(string kind, string encoding, string how)
    {
        byte[] bytes = kind switch
        {
            "bom-utf8" => Concat([0xEF, 0xBB, 0xBF], Encodings.ToUtf8(Csv)),
            "bom-utf16le" => Concat([0xFF, 0xFE], new UnicodeEncoding(false, false).GetBytes(Csv)),
            "bom-utf16be" => Concat([0xFE, 0xFF], new UnicodeEncoding(true, false).GetBytes(Csv)),
            "utf8" => Encodings.ToUtf8(Csv),
            _ => Encodings.ToCp949(Csv),
        };
        var file = LoadTestFiles.Read(_files.Bytes(kind + ".csv", bytes), TextEncodingKind.Auto);
        Assert.Equal((encoding, how, "가"), (file.Encoding, file.EncodingHow, file.Rows.Single().Context));
    }

    [Fact]
    public void Auto_fails_when_the_file_is_neither_utf8_nor_cp949()
    {
        // FF is neither a UTF-8 byte nor defined in cp949 (.NET maps it to U+F8F7, a private use character).
        string path = _files.Bytes("neither.csv", Concat(Encodings.ToCp949(Csv), [0x41, 0x2C, 0xFF, 0x2C, 0x78, 0x0A]));
        Assert.Equal(
            $"{path}: encoding auto: the file is neither UTF-8 (row 2 (line 2), byte offset 22: bytes [B0]) nor cp949 " +
            "(row 3 (line 3), byte offset 34: bytes [FF]); declare its encoding",
            LoadTestFiles.Error(path, TextEncodingKind.Auto));
    }

    [Fact]
    public void Encoding_names_parse_python_spellings_and_reject_unknown_ones()
    {
        Assert.Equal(TextEncodingKind.Cp949, TextEncodingNames.Parse("CP949"));
        Assert.Equal(TextEncodingKind.EucKr, TextEncodingNames.Parse("euc-kr"));
        Assert.Equal(TextEncodingKind.Utf8, TextEncodingNames.Parse("utf-8-sig"));
        var e = Assert.Throws<ArgumentException>(() => TextEncodingNames.Parse("latin-1"));
        Assert.StartsWith("unknown encoding 'latin-1'; expected one of: auto, utf-8,", e.Message);
    }
}

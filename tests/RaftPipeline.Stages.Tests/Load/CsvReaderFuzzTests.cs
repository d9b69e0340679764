using System.Text;
using CsCheck;
using RaftPipeline.Fuzzing;
using RaftPipeline.Stages.Load;

namespace RaftPipeline.Stages.Tests.Load;

/// <summary>Every byte string either reads as rows or gives a <see cref="DatasetLoadException"/> naming the file; never another exception.</summary>
public class CsvReaderFuzzTests
{
    static readonly byte[][] Tokens =
    [
        .. new[] { ",", "\"", "\"\"", "\n", "\r\n", "\r", "\t", ";", "|", "context", "question", "cot", ",,,,", "\"a\nb\"", "5\" screen" }
            .Select(Encoding.UTF8.GetBytes),
        [0xEF, 0xBB, 0xBF], [0xFF, 0xFE], [0xFE, 0xFF], [0x00], [0xC0, 0x80], [0xED, 0xA0, 0x80], [0xB0, 0xA1], [0xFF], [0x81, 0x41],
    ];

    [Fact]
    public void Mutated_csv_files_read_or_fail_with_a_located_dataset_error()
    {
        var cp949 = CodePagesEncoding();
        var seeds = new[]
        {
            Encoding.UTF8.GetBytes("context,question,cot\n하늘,색은?,파랑\n\"a, b\",\"say \"\"hi\"\"\",\"multi\nline\"\n"),
            Encoding.UTF8.GetBytes("\uFEFFcontext,question,cot\r\nsky,color?,blue\r\n,,\r\nsea,color?,\"blue\"\r\n"),
            cp949.GetBytes("context,question,cot\n하늘,색은?,파랑\n"),
            Encoding.Unicode.GetPreamble().Concat(Encoding.Unicode.GetBytes("context,question,cot\nsky,color?,blue\n")).ToArray(),
        };
        var encodings = Enum.GetValues<TextEncodingKind>();
        const string file = "/data/fuzz.csv";
        Gen.Select(Mutations.OfBytes(seeds, Tokens), Gen.Int[0, encodings.Length - 1]).Fuzz(t =>
        {
            var (bytes, encoding) = (t.Item1, encodings[t.Item2]);
            try
            {
                var loaded = CsvDatasetReader.Read(file, bytes, encoding, new ColumnMapping(), "I don't know.");
                Assert.All(loaded.Rows, r => Assert.NotNull(r.Answer));
            }
            catch (DatasetLoadException e)
            {
                Assert.StartsWith($"{file}: ", e.Message);
                Assert.True(e.Message.Length < 1000, $"{e.Message.Length} characters");
            }
        }, print: t => Convert.ToHexString(t.Item1) + " as " + encodings[t.Item2]);
    }

    [Fact]
    public void Found_by_fuzzing_an_odd_length_utf16_file_with_a_lone_surrogate_is_a_dataset_error_not_a_decoder_exception()
    {
        var bytes = Convert.FromHexString("EFDCBF636F6E746578742C7175657374696F6E2C636F740D0A");
        var e = Assert.Throws<DatasetLoadException>(() => CsvDatasetReader.Read("/data/x.csv", bytes, TextEncodingKind.Utf16, new ColumnMapping(), "no"));
        Assert.StartsWith("/data/x.csv: ", e.Message);
        Assert.Contains("byte offset", e.Message);
    }

    static Encoding CodePagesEncoding()
    {
        Encoding.RegisterProvider(CodePagesEncodingProvider.Instance);
        return Encoding.GetEncoding(949);
    }
}

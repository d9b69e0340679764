using System.Text;
using RaftPipeline.Stages.Load;

namespace RaftPipeline.Stages.Tests.Load;

/// <summary>Errors about data files name the data file and quote its content cut to a readable length.</summary>
public sealed class BoundedMessageTests : IDisposable
{
    readonly LoadTestFiles _files = new();

    public void Dispose() => _files.Dispose();

    [Fact]
    public void A_utf8_csv_declared_utf16_prints_a_cut_header_not_the_whole_file()
    {
        // 200,000 rows of Korean read as UTF-16: no commas survive, so the whole file is one header "column".
        var text = new StringBuilder("context,question,cot\n");
        for (var i = 0; i < 200_000; i++) text.Append("하늘,색은?,파랑\n");
        var bytes = Encoding.UTF8.GetBytes(text.ToString());
        if (bytes.Length % 2 == 1) bytes = [.. bytes, (byte)'\n'];
        var path = _files.Bytes("rag.csv", bytes);
        Assert.True(bytes.Length > 4_000_000);

        var message = LoadTestFiles.Error(path, TextEncodingKind.Utf16);
        Assert.True(message.Length < 600, $"{message.Length} characters");
        Assert.StartsWith($"{path}: row 1 (line 1): missing column(s) 'context' (for context), 'question' (for question), 'cot' (for answer); the header has columns '", message);
        Assert.Matches(@"… \(\d+ more characters\)' \(is the encoding right\?\)$", message);
    }

    [Fact]
    public void A_header_with_many_columns_lists_twenty_and_counts_the_rest()
    {
        var header = string.Join(",", Enumerable.Range(1, 50).Select(i => $"c{i}"));
        var path = _files.Utf8("wide.csv", header + "\n" + string.Join(",", Enumerable.Repeat("x", 50)) + "\n");
        var message = LoadTestFiles.Error(path, TextEncodingKind.Utf8);
        Assert.EndsWith("the header has columns 'c1', 'c2', 'c3', 'c4', 'c5', 'c6', 'c7', 'c8', 'c9', 'c10', 'c11', 'c12', 'c13', 'c14', 'c15', 'c16', 'c17', 'c18', 'c19', 'c20' and 30 more", message);
    }

    [Fact]
    public void A_header_only_csv_is_an_error_naming_the_csv()
    {
        var path = _files.Utf8("empty.csv", "context,question,cot\n\n");
        var e = Assert.Throws<DatasetLoadException>(() => DatasetLoader.Load([path], new LoadOptions()));
        Assert.Equal($"{path}: no data rows (only a header row and 1 blank row); expected at least one row to train on", e.Message);
    }
}

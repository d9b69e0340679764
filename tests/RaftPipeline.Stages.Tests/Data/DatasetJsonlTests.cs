using System.Text;
using RaftPipeline.Stages.Data;
using RaftPipeline.Stages.Tests.TestSupport;

namespace RaftPipeline.Stages.Tests.Data;

public class DatasetJsonlTests
{
    [Fact]
    public void Writes_readable_utf8_lines_in_a_fixed_key_order_and_reads_them_back()
    {
        using var temp = new TempFolder();
        var rows = new[]
        {
            new DatasetRow("첫 문단,\n둘째 줄 \"따옴표\"", "질문?", "그것도 몰라?", true, "a.csv", 2),
            new DatasetRow("ctx", "q", "내가 그딴 걸 어떻게 알아?", false, "b.jsonl", 7),
        };
        string path = temp.Combine("train.jsonl");
        DatasetJsonl.Write(path, rows);

        string text = File.ReadAllText(path, Encoding.UTF8);
        Assert.Equal(
            "{\"context\":\"첫 문단,\\n둘째 줄 \\\"따옴표\\\"\",\"question\":\"질문?\",\"answer\":\"그것도 몰라?\",\"answerable\":true,\"source\":\"a.csv\",\"row\":2}\n" +
            "{\"context\":\"ctx\",\"question\":\"q\",\"answer\":\"내가 그딴 걸 어떻게 알아?\",\"answerable\":false,\"source\":\"b.jsonl\",\"row\":7}\n",
            text);
        Assert.False(File.ReadAllBytes(path).AsSpan().StartsWith(new byte[] { 0xEF, 0xBB, 0xBF }));
        Assert.Equal(rows, DatasetJsonl.Read(path));
    }

    [Fact]
    public void A_line_without_a_key_is_an_error_naming_the_line_and_key()
    {
        using var temp = new TempFolder();
        string path = temp.File("bad.jsonl", Encoding.UTF8.GetBytes(
            "{\"context\":\"c\",\"question\":\"q\",\"answer\":\"a\",\"answerable\":true,\"source\":\"s\",\"row\":2}\n" +
            "{\"context\":\"c\",\"question\":\"q\",\"answerable\":true,\"source\":\"s\",\"row\":3}\n"));
        var e = Assert.Throws<DatasetFormatException>(() => DatasetJsonl.Read(path));
        Assert.Equal($"{path}: line 2: missing key 'answer'", e.Message);
    }
}

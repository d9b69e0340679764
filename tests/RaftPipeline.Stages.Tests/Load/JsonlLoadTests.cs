using RaftPipeline.Stages.Data;
using RaftPipeline.Stages.Load;

namespace RaftPipeline.Stages.Tests.Load;

public class JsonlLoadTests : IDisposable
{
    private readonly LoadTestFiles _files = new();
    public void Dispose() => _files.Dispose();

    [Fact]
    public void Reads_objects_with_the_mapped_keys_and_counts_blank_lines()
    {
        string path = _files.Utf8("data.jsonl",
            "{\"context\":\"문단\\n둘째 줄\",\"question\":\"질문\",\"cot\":\"답\",\"id\":7}\n\n" +
            "{\"cot\":\"내가 그딴 걸 어떻게 알아?\",\"question\":\"q\",\"context\":\"c\"}\r\n");
        var file = LoadTestFiles.Read(path, TextEncodingKind.Auto);
        Assert.Equal(DataFileFormat.Jsonl, file.Format);
        Assert.Equal(
            [new DatasetRow("문단\n둘째 줄", "질문", "답", true, "data.jsonl", 1), new DatasetRow("c", "q", "내가 그딴 걸 어떻게 알아?", false, "data.jsonl", 3)],
            file.Rows);
        Assert.Equal(1, file.EmptyRowsSkipped);
    }

    [Fact]
    public void A_missing_key_is_an_error_listing_the_keys_found()
    {
        string path = _files.Utf8("miss.jsonl", "{\"context\":\"c\",\"question\":\"q\",\"cot\":\"a\"}\n{\"context\":\"c\",\"query\":\"q\",\"answer\":\"a\"}\n");
        Assert.Equal(
            $"{path}: line 2: missing key(s) 'question' (for question), 'cot' (for answer); the object has keys 'context', 'query', 'answer'",
            LoadTestFiles.Error(path, TextEncodingKind.Utf8));
    }

    [Fact]
    public void Invalid_json_a_non_object_and_a_non_string_value_are_errors()
    {
        string broken = _files.Utf8("broken.jsonl", "{\"context\": \"c\",\n");
        Assert.StartsWith($"{broken}: line 1: not valid JSON: ", LoadTestFiles.Error(broken, TextEncodingKind.Utf8));

        string array = _files.Utf8("array.jsonl", "[1, 2]\n");
        Assert.Equal($"{array}: line 1: expected a JSON object, found an array", LoadTestFiles.Error(array, TextEncodingKind.Utf8));

        string number = _files.Utf8("number.jsonl", "{\"context\":\"c\",\"question\":3,\"cot\":\"a\"}\n");
        Assert.Equal($"{number}: line 1: key 'question' is a number, expected a string", LoadTestFiles.Error(number, TextEncodingKind.Utf8));
    }

    [Fact]
    public void Decoding_errors_in_jsonl_name_the_line()
    {
        string path = _files.Bytes("bad.jsonl", [.. "{\"a\":1}\n{\"b\":\""u8, 0xC3, 0x28, .. "\"}\n"u8]);
        Assert.Equal($"{path}: line 2, byte offset 14: bytes [C3] are not valid utf-8", LoadTestFiles.Error(path, TextEncodingKind.Utf8));
    }
}

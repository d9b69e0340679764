using RaftPipeline.Stages.Data;
using RaftPipeline.Stages.Load;

namespace RaftPipeline.Stages.Tests.Load;

public class CsvLoadTests : IDisposable
{
    private readonly LoadTestFiles _files = new();
    public void Dispose() => _files.Dispose();

    [Fact]
    public void Reads_a_cp949_file_with_the_notebook_columns()
    {
        string path = _files.Cp949("RAG_Data_full.csv",
            "context,question,cot\r\n서울은 한국의 수도이다.,한국의 수도는?,그것도 몰라? 여기 \"서울은 한국의 수도이다\"라고 나와 있잖아.\r\n" +
            "문단,질문,내가 그딴 걸 어떻게 알아?\r\n");
        var file = LoadTestFiles.Read(path, TextEncodingKind.Cp949);
        Assert.Equal("cp949", file.Encoding);
        Assert.Equal("declared", file.EncodingHow);
        Assert.Equal(
            [
                new DatasetRow("서울은 한국의 수도이다.", "한국의 수도는?", "그것도 몰라? 여기 \"서울은 한국의 수도이다\"라고 나와 있잖아.", true, "RAG_Data_full.csv", 2),
                new DatasetRow("문단", "질문", "내가 그딴 걸 어떻게 알아?", false, "RAG_Data_full.csv", 3),
            ],
            file.Rows);
    }

    [Fact]
    public void Quoted_fields_keep_commas_quotes_and_line_breaks_and_a_multi_line_field_stays_one_row()
    {
        string path = _files.Cp949("multi.csv",
            "context,question,cot\r\n" +
            "\"첫 줄,\r\n둘째 줄 \"\"인용\"\"\",질문 하나,답 하나\r\n" +
            "평범한 문단,\"질문, 쉼표\",답 둘\r\n");
        var rows = LoadTestFiles.Read(path, TextEncodingKind.Cp949).Rows;
        Assert.Equal(2, rows.Count);
        Assert.Equal("첫 줄,\n둘째 줄 \"인용\"", rows[0].Context); // CRLF inside the field becomes LF
        Assert.Equal(2, rows[0].SourceRow);
        Assert.Equal("질문, 쉼표", rows[1].Question);
        Assert.Equal(3, rows[1].SourceRow); // row 3 although it starts on line 4
    }

    [Fact]
    public void Empty_rows_are_skipped_and_counted()
    {
        string path = _files.Utf8("empty.csv", "context,question,cot\n\na,b,c\n,,\n  , ,\nd,e,f\n\n");
        var file = LoadTestFiles.Read(path, TextEncodingKind.Utf8);
        Assert.Equal(["a", "d"], file.Rows.Select(r => r.Context));
        Assert.Equal([3, 6], file.Rows.Select(r => r.SourceRow));
        Assert.Equal(4, file.EmptyRowsSkipped);
    }

    [Fact]
    public void A_stray_quote_inside_an_unquoted_field_is_text()
    {
        string path = _files.Utf8("stray.csv", "context,question,cot\n5\" screen,q,a\n");
        Assert.Equal("5\" screen", LoadTestFiles.Read(path, TextEncodingKind.Utf8).Rows.Single().Context);
    }

    [Fact]
    public void Columns_can_be_mapped()
    {
        string path = _files.Utf8("mapped.csv", "passage,query,response,extra\np,q,r,x\n");
        var row = LoadTestFiles.Read(path, TextEncodingKind.Utf8, new ColumnMapping("passage", "query", "response")).Rows.Single();
        Assert.Equal(("p", "q", "r"), (row.Context, row.Question, row.Answer));
    }

    [Fact]
    public void Header_names_are_trimmed()
    {
        string path = _files.Utf8("spaces.csv", " context , question,cot \na,b,c\n");
        Assert.Single(LoadTestFiles.Read(path, TextEncodingKind.Utf8).Rows);
    }

    [Fact]
    public void Missing_columns_are_an_error_listing_the_columns_found()
    {
        string path = _files.Utf8("cols.csv", "context,question,answer\na,b,c\n");
        Assert.Equal(
            $"{path}: row 1 (line 1): missing column(s) 'cot' (for answer); the header has columns 'context', 'question', 'answer'",
            LoadTestFiles.Error(path, TextEncodingKind.Utf8));
    }

    [Fact]
    public void A_duplicated_header_name_is_an_error()
    {
        string path = _files.Utf8("dup.csv", "context,question,cot,cot\na,b,c,d\n");
        Assert.Equal($"{path}: row 1 (line 1): the header names column 'cot' more than once", LoadTestFiles.Error(path, TextEncodingKind.Utf8));
    }

    [Fact]
    public void An_empty_file_is_an_error()
    {
        string path = _files.Utf8("none.csv", "");
        Assert.Equal($"{path}: row 1 (line 1): expected a header row, found an empty file", LoadTestFiles.Error(path, TextEncodingKind.Utf8));
    }

    [Fact]
    public void A_row_with_the_wrong_number_of_fields_is_an_error()
    {
        string path = _files.Utf8("count.csv", "context,question,cot\na,b,c\n\"x\ny\",b\n");
        Assert.Equal($"{path}: row 3 (line 3): 2 fields but the header has 3 columns", LoadTestFiles.Error(path, TextEncodingKind.Utf8));
    }

    [Fact]
    public void An_empty_mapped_field_is_an_error()
    {
        string path = _files.Utf8("hole.csv", "context,question,cot\na,b,c\nd,,f\n");
        Assert.Equal($"{path}: row 3 (line 3): column 'question' is empty", LoadTestFiles.Error(path, TextEncodingKind.Utf8));
    }

    [Fact]
    public void An_unterminated_quote_is_an_error()
    {
        string path = _files.Utf8("open.csv", "context,question,cot\na,b,c\n\"never closed,b,c\nd,e,f\n");
        Assert.Equal(
            $"{path}: row 3 (line 3): a quoted field is never closed (a missing \" would swallow the rest of the file)",
            LoadTestFiles.Error(path, TextEncodingKind.Utf8));
    }

    [Fact]
    public void Text_after_a_closing_quote_is_an_error()
    {
        string path = _files.Utf8("after.csv", "context,question,cot\na,b,c\nd,\"quoted\" tail,f\n");
        Assert.Equal(
            $"{path}: row 3 (line 3): text after the closing quote of a quoted field (write a quote inside a quoted field as \"\")",
            LoadTestFiles.Error(path, TextEncodingKind.Utf8));
    }

    [Fact]
    public void A_missing_file_is_an_error()
    {
        string path = _files.Temp.Combine("absent.csv");
        Assert.Equal($"{path}: no such file", LoadTestFiles.Error(path, TextEncodingKind.Auto));
    }
}

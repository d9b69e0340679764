using System.Text.Json;
using System.Text.RegularExpressions;
using RaftPipeline.Stages.Data;
using RaftPipeline.Stages.Load;
using RaftPipeline.Stages.Tests.TestSupport;

namespace RaftPipeline.Stages.Tests.Examples;

/// <summary>
/// examples/data/RAG_Data_full.csv and RAG_Data_full_neg.csv: cp949 as the notebook loads them, the recipe's style
/// on every row, and in step with the editable source they are generated from (examples/data/generate.py).
/// </summary>
public partial class ExampleDataTests
{
    private const string Refusal = "내가 그딴 걸 어떻게 알아?";
    private static readonly string DataFolder = Path.Combine(RepoRoot.Path, "examples", "data");
    private static readonly string Positives = Path.Combine(DataFolder, "RAG_Data_full.csv");
    private static readonly string Negatives = Path.Combine(DataFolder, "RAG_Data_full_neg.csv");

    private static IReadOnlyList<DatasetRow> Load(string path) =>
        DatasetLoader.ReadFile(path, new LoadOptions { Encoding = TextEncodingKind.Cp949 }).Rows;

    [GeneratedRegex("^그것도 몰라\\? 여기 \"([^\"]+)\"라고 나와 있잖아\\. (\\S[^\\n]*)$")]
    private static partial Regex AnswerStyle();

    [Fact]
    public void Both_files_are_cp949_with_the_notebooks_header_and_enough_rows()
    {
        foreach (var path in new[] { Positives, Negatives })
        {
            var bytes = File.ReadAllBytes(path);
            Assert.True(bytes.AsSpan().StartsWith("context,question,cot\r\n"u8), $"{path}: header");
            // Strict cp949 round trip: every character is encodable, and the bytes are not UTF-8 in disguise.
            Assert.Equal(bytes, Encodings.ToCp949(Encodings.Cp949.GetString(bytes)));
            var file = DatasetLoader.ReadFile(path, new LoadOptions { Encoding = TextEncodingKind.Auto });
            Assert.Equal(("cp949", "not valid UTF-8, decodes cleanly as cp949"), (file.Encoding, file.EncodingHow));
            Assert.Equal(0, file.EmptyRowsSkipped);
        }
        Assert.True(Load(Positives).Count >= 150, $"{Load(Positives).Count} answerable rows");
        Assert.True(Load(Negatives).Count >= 60, $"{Load(Negatives).Count} negative rows");
    }

    [Fact]
    public void Every_answer_opens_rudely_quotes_its_context_with_yeogi_and_ends_with_a_one_line_summary()
    {
        foreach (var row in Load(Positives))
        {
            var match = AnswerStyle().Match(row.Answer);
            Assert.True(match.Success, $"row {row.SourceRow}: answer not in the recipe's style: {row.Answer}");
            Assert.True(row.Context.Contains(match.Groups[1].Value, StringComparison.Ordinal),
                $"row {row.SourceRow}: quoted span is not verbatim in the context: {match.Groups[1].Value}");
            Assert.True(match.Groups[2].Value.Length >= 10, $"row {row.SourceRow}: summary too short");
            Assert.True(row.Answerable);
            Assert.EndsWith("?", row.Question);
        }
    }

    [Fact]
    public void Every_negative_answers_exactly_the_refusal_with_a_question_of_its_own()
    {
        var positives = Load(Positives);
        foreach (var row in Load(Negatives))
        {
            Assert.Equal(Refusal, row.Answer);
            Assert.False(row.Answerable);
            Assert.DoesNotContain(positives, p => p.Question == row.Question);
        }
    }

    [Fact]
    public void Paragraphs_are_varied_and_three_to_six_sentences_long()
    {
        var contexts = Load(Positives).Concat(Load(Negatives)).Select(r => r.Context).Distinct().ToList();
        Assert.True(contexts.Count >= 75, $"only {contexts.Count} distinct paragraphs");
        Assert.Contains(contexts, c => c.Contains('\n')); // a multi-line field survives the CSV round trip
        foreach (var context in contexts)
        {
            int sentences = Regex.Matches(context, "[.?!](?=\\s|$)").Count;
            Assert.True(sentences is >= 3 and <= 6, $"{sentences} sentences: {context}");
        }
    }

    [Fact]
    public void The_csv_files_are_what_generate_py_makes_from_the_source()
    {
        var expectedPositives = new List<(string, string, string)>();
        var expectedNegatives = new List<(string, string, string)>();
        foreach (var file in Directory.GetFiles(Path.Combine(DataFolder, "source"), "*.jsonl").Order(StringComparer.Ordinal))
        foreach (var line in File.ReadLines(file).Where(l => l.Trim().Length > 0))
        {
            using var doc = JsonDocument.Parse(line);
            var item = doc.RootElement;
            string context = item.GetProperty("context").GetString()!;
            if (item.TryGetProperty("qa", out var qa))
                foreach (var entry in qa.EnumerateArray())
                {
                    var parts = entry.EnumerateArray().Select(e => e.GetString()!).ToArray();
                    expectedPositives.Add((context, parts[0], $"그것도 몰라? 여기 \"{parts[1]}\"라고 나와 있잖아. {parts[2]}"));
                }
            if (item.TryGetProperty("neg", out var neg))
                foreach (var question in neg.EnumerateArray())
                    expectedNegatives.Add((context, question.GetString()!, Refusal));
        }
        Assert.Equal(expectedPositives, Load(Positives).Select(r => (r.Context, r.Question, r.Answer)));
        Assert.Equal(expectedNegatives, Load(Negatives).Select(r => (r.Context, r.Question, r.Answer)));
    }

    [Fact]
    public void Loading_both_files_like_the_notebook_shuffles_them_together()
    {
        var result = DatasetLoader.Load([Positives, Negatives], new LoadOptions { Encoding = TextEncodingKind.Cp949, Seed = 1234, TestFraction = 0.1 });
        int total = Load(Positives).Count + Load(Negatives).Count;
        Assert.Equal(total, result.Train.Count + result.Test.Count);
        Assert.Equal((int)Math.Ceiling(total * 0.1), result.Test.Count);
        // Both kinds in the first 40 rows: the files are mixed, not concatenated.
        Assert.Contains(result.Train.Take(40), r => r.Answerable);
        Assert.Contains(result.Train.Take(40), r => !r.Answerable);
    }
}

using RaftPipeline.Core.Spec.Stages;
using RaftPipeline.Stages.Analyze;
using RaftPipeline.Stages.Format;
using RaftPipeline.Stages.Tests.TestSupport;
using RaftPipeline.Text.Assets;
using SkiaSharp;

namespace RaftPipeline.Stages.Tests.Analyze;

public class AnalyzeStageExecutorTests
{
    [Fact]
    public async Task Counts_tokens_with_the_models_tokenizer_and_writes_statistics_table_and_histogram()
    {
        using var temp = new TempFolder();
        string model = Directory.CreateDirectory(temp.Combine("model")).FullName;
        EmbeddedAssets.WriteQwen3Tokenizer(model);
        string data = Directory.CreateDirectory(temp.Combine("format")).FullName;
        FormatArtifact.WriteTexts(data,
        [
            "Hello world", // two tokens in Qwen3's BPE: "Hello", " world"
            "<|im_start|>user\nContext: 서울은 한국의 수도이다.\n---\nQuestion: 한국의 수도는?<|im_end|>\n<|im_start|>assistant\n그것도 몰라?<|im_end|>\n",
            "Hello world Hello world",
        ]);
        var context = StageContexts.Create(temp, "analyze", new AnalyzeParameters { MaxSeqLength = 4, Bins = 10 },
            new Dictionary<string, IReadOnlyList<string>> { ["data"] = [data], ["model"] = [model] });

        var outcome = await new AnalyzeStageExecutor().RunAsync(context, CancellationToken.None);

        var lengths = System.Text.Json.JsonSerializer.Deserialize<int[]>(File.ReadAllText(Path.Combine(context.OutputDirectory, AnalyzeArtifact.TokenLengths)))!;
        Assert.Equal(3, lengths.Length);
        Assert.Equal(2, lengths[0]);
        Assert.Equal(4, lengths[2]);
        Assert.True(lengths[1] > 20, $"the chat text has {lengths[1]} tokens");
        Assert.Equal((3, 2, lengths[1], 1), ((int)outcome.Metrics["count"]!, (int)outcome.Metrics["min"]!, (int)outcome.Metrics["max"]!,
            (int)outcome.Metrics["over_max_seq_length"]!)); // only the chat text is longer than 4
        Assert.Equal(4.0, (double)outcome.Metrics["median"]!);

        foreach (var folder in new[] { context.OutputDirectory, context.ReportDirectory })
        {
            using var png = SKBitmap.Decode(Path.Combine(folder, AnalyzeArtifact.Histogram));
            Assert.Equal((900, 540), (png.Width, png.Height));
            Assert.StartsWith("Token length statistics\n  count   3\n", File.ReadAllText(Path.Combine(folder, AnalyzeArtifact.StatisticsText)));
        }
        Assert.Contains(((RecordingProgress)context.Progress).Lines, l => l.Contains("1 rows (33.33%) would be truncated"));
    }

    [Fact]
    public async Task A_format_artifact_without_texts_is_an_error_naming_the_file()
    {
        using var temp = new TempFolder();
        string model = Directory.CreateDirectory(temp.Combine("model")).FullName;
        string data = Directory.CreateDirectory(temp.Combine("format")).FullName;
        var context = StageContexts.Create(temp, "analyze", new AnalyzeParameters(),
            new Dictionary<string, IReadOnlyList<string>> { ["data"] = [data], ["model"] = [model] });
        var e = await Assert.ThrowsAsync<Stages.Data.DatasetFormatException>(() => new AnalyzeStageExecutor().RunAsync(context, CancellationToken.None));
        Assert.Equal($"{Path.Combine(data, FormatArtifact.TextsFile)}: missing: the format stage writes its rendered texts there", e.Message);
    }
}

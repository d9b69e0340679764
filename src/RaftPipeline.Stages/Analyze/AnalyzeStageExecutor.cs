using RaftPipeline.Core.Engine;
using RaftPipeline.Core.Spec.Stages;
using RaftPipeline.Stages.Format;
using RaftPipeline.Text.Tokenization;

namespace RaftPipeline.Stages.Analyze;

/// <summary>
/// The <c>analyze</c> stage: counts the tokens of every formatted text with the model's tokenizer (as the notebook's
/// <c>len(tokenizer(text)["input_ids"])</c>, special tokens as the tokenizer adds them) and writes the statistics,
/// the table and the histogram into the artifact, and the table and histogram into the run's report folder.
/// </summary>
public sealed class AnalyzeStageExecutor : IStageExecutor
{
    public const string DataSlot = "data";
    public const string ModelSlot = "model";

    public string Kind => "analyze";

    /// <summary>1: numpy-semantics statistics, ScottPlot histogram with a Scott-bandwidth KDE.</summary>
    public int Version => 1;

    public Task<StageOutcome> RunAsync(StageContext context, CancellationToken cancellationToken)
    {
        var parameters = context.Parameters<AnalyzeParameters>();
        var texts = FormatArtifact.ReadTexts(context.Input(DataSlot));
        if (texts.Count == 0) throw new InvalidDataException($"stage '{context.Stage.Name}': the formatted data has no texts to analyze");
        var tokenizer = HuggingFaceTokenizer.FromDirectory(context.Input(ModelSlot));

        var lengths = new int[texts.Count];
        for (int i = 0; i < texts.Count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            lengths[i] = tokenizer.Encode(texts[i]).Length;
            if ((i + 1) % 500 == 0 || i + 1 == texts.Count) context.Progress.Report("tokenize", i + 1, texts.Count);
        }

        var statistics = AnalyzeArtifact.Write(context.OutputDirectory, lengths, parameters.MaxSeqLength, parameters.Bins);
        foreach (var name in new[] { AnalyzeArtifact.StatisticsText, AnalyzeArtifact.Histogram })
            File.Copy(Path.Combine(context.OutputDirectory, name), Path.Combine(context.ReportDirectory, name), overwrite: true);
        foreach (var line in TokenStatisticsReport.ToTable(statistics).TrimEnd('\n').Split('\n')) context.Progress.Log(line);

        return Task.FromResult(new StageOutcome(TokenStatisticsReport.ToJson(statistics)));
    }
}

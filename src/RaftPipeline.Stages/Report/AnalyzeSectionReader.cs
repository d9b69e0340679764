using System.Text.Json.Nodes;
using RaftPipeline.Core.Engine;
using RaftPipeline.Stages.Analyze;

namespace RaftPipeline.Stages.Report;

/// <summary>
/// analyze's report folder holds <see cref="AnalyzeArtifact.StatisticsText"/> and <see cref="AnalyzeArtifact.Histogram"/>;
/// the statistics themselves are the stage's metrics in the lock (the executor returns them as its outcome).
/// </summary>
internal static class AnalyzeSectionReader
{
    static readonly byte[] PngSignature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    public static AnalyzeSection? Read(StageFiles files, StageRecord? record)
    {
        string? table = null;
        if (files.Find(AnalyzeArtifact.StatisticsText) is { } tablePath)
            table = File.ReadAllText(tablePath).TrimEnd('\n', '\r');

        byte[]? png = null;
        string? pngPath = null;
        if (files.Find(AnalyzeArtifact.Histogram) is { } histogramPath)
        {
            var bytes = File.ReadAllBytes(histogramPath);
            if (bytes.AsSpan().StartsWith(PngSignature)) (png, pngPath) = (bytes, files.Display(histogramPath));
            else files.Notes.Add($"{files.Display(histogramPath)} is not a PNG file (no PNG signature); not shown.");
        }

        JsonObject? statistics = record?.Metrics is { Count: > 0 } metrics && metrics.ContainsKey("count") ? metrics : null;
        if (statistics is null && record is { Status: StageStatus.Ran or StageStatus.Reused })
            files.Notes.Add("the lock file records no token statistics for this stage.");

        return table is null && png is null && statistics is null ? null : new AnalyzeSection(table, statistics, png, pngPath);
    }
}

using System.Text.Json;
using System.Text.Json.Nodes;

namespace RaftPipeline.Stages.Report;

/// <summary>generate's <c>samples.jsonl</c>: one <c>{"probe","system","user","base","tuned"}</c> per probe.</summary>
internal static class GenerateSectionReader
{
    public const string SamplesFile = "samples.jsonl";

    public static GenerateSection? Read(StageFiles files)
    {
        if (files.Find(SamplesFile) is not { } path) return null;
        var samples = new List<ProbeSample>();
        var lines = File.ReadAllLines(path);
        for (int i = 0; i < lines.Length; i++)
        {
            if (string.IsNullOrWhiteSpace(lines[i])) continue;
            try
            {
                var o = JsonNode.Parse(lines[i]) as JsonObject ?? throw new FormatException("not a JSON object");
                samples.Add(new ProbeSample(
                    ReportJson.Text(o, "probe") ?? $"probe {samples.Count + 1}",
                    ReportJson.Text(o, "system"),
                    ReportJson.Text(o, "user") ?? throw new FormatException("no \"user\""),
                    ReportJson.Text(o, "base"),
                    ReportJson.Text(o, "tuned")));
            }
            catch (Exception e) when (e is JsonException or FormatException)
            {
                files.Notes.Add($"{files.Display(path)} line {i + 1}: {ReportJson.Describe(e, withLine: false)}; probe passed over.");
            }
        }
        if (samples.Count == 0) files.Notes.Add($"{files.Display(path)} has no samples.");
        return samples.Count == 0 ? null : new GenerateSection(samples);
    }
}

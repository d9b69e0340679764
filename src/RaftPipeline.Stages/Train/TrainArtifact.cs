using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace RaftPipeline.Stages.Train;

/// <summary>
/// The train stage's artifact folder: the trained peft adapter at the root (adapter_config.json,
/// adapter_model.safetensors, README.md) plus metrics.jsonl, train_summary.json and data_files.json (the format
/// artifact's files.json, so the adapter names the data it learned from).
/// </summary>
public static class TrainArtifact
{
    public const string MetricsFile = "metrics.jsonl";
    public const string SummaryFile = "train_summary.json";
    public const string DataFilesFile = "data_files.json";
    public const string ReadmeFile = "README.md";
    /// <summary>files.json as the load stage writes it and format copies it.</summary>
    public const string SourceFilesFile = "files.json";

    static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static void WriteJson(string path, JsonNode node) => File.WriteAllText(path, node.ToJsonString(Indented) + "\n");

    /// <summary>Copies the format artifact's files.json as data_files.json; returns its content, or null when absent.</summary>
    public static JsonNode? CopyDataFiles(string formatDirectory, string outputDirectory)
    {
        string source = Path.Combine(formatDirectory, SourceFilesFile);
        if (!File.Exists(source)) return null;
        File.Copy(source, Path.Combine(outputDirectory, DataFilesFile));
        try { return JsonNode.Parse(File.ReadAllText(source)); }
        catch (JsonException e) { throw new InvalidDataException($"{source}: not valid JSON: {e.Message}", e); }
    }

    /// <summary>Rows of metrics.jsonl, for tests and the report.</summary>
    public static List<JsonObject> ReadMetrics(string directory) =>
        File.ReadLines(Path.Combine(directory, MetricsFile)).Where(l => l.Length > 0)
            .Select((l, i) => JsonNode.Parse(l) as JsonObject
                ?? throw new InvalidDataException($"{Path.Combine(directory, MetricsFile)}: line {i + 1}: expected a JSON object"))
            .ToList();
}

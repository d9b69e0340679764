using System.Text.Json;

namespace RaftPipeline.Training.Loop;

/// <summary>Appends every log entry as one JSON object per line (metrics.jsonl), flushed at once.</summary>
public sealed class MetricsJsonlCallback(string path) : ITrainerCallback
{
    static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public void OnLog(TrainingLogEntry entry)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        File.AppendAllText(path, JsonSerializer.Serialize(entry, Json) + "\n");
    }
}

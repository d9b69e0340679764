using System.Text.Encodings.Web;
using System.Text.Json;

namespace RaftPipeline.Stages.Format;

/// <summary>Chat examples as JSONL (UTF-8, '\n', fixed key order, Korean unescaped), for artifacts and inspection.</summary>
public static class ChatExampleJsonl
{
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static void Write(string path, IEnumerable<ChatExample> examples)
    {
        using var stream = File.Create(path);
        foreach (var e in examples)
        {
            using (var json = new Utf8JsonWriter(stream, WriterOptions))
            {
                json.WriteStartObject();
                if (e.System is null) json.WriteNull("system"); else json.WriteString("system", e.System);
                json.WriteString("user", e.User);
                json.WriteString("assistant", e.Assistant);
                json.WriteString("kind", e.Kind.ToString());
                json.WriteNumber("contexts", e.ContextCount);
                json.WriteString("source", e.Source);
                json.WriteNumber("row", e.SourceRow);
                json.WriteEndObject();
            }
            stream.WriteByte((byte)'\n');
        }
    }

    public static List<ChatExample> Read(string path)
    {
        var examples = new List<ChatExample>();
        int lineNumber = 0;
        foreach (var line in File.ReadLines(path))
        {
            lineNumber++;
            if (line.Length == 0) continue;
            try
            {
                using var doc = JsonDocument.Parse(line);
                var r = doc.RootElement;
                examples.Add(new ChatExample(
                    Get(r, "system").ValueKind == JsonValueKind.Null ? null : Text(r, "system"),
                    Text(r, "user"),
                    Text(r, "assistant"),
                    Enum.Parse<ExampleKind>(Text(r, "kind")),
                    Get(r, "contexts").GetInt32(),
                    Text(r, "source"),
                    Get(r, "row").GetInt32()));
            }
            catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or ArgumentException)
            {
                throw new Data.DatasetFormatException($"{path}: line {lineNumber}: not a chat example: {e.Message}", e);
            }
        }
        return examples;
    }

    // GetString() returns null for a JSON null; a null user or answer must fail here, at its line, not in the template.
    private static string Text(JsonElement root, string key) =>
        Get(root, key) is { ValueKind: JsonValueKind.String } value
            ? value.GetString()!
            : throw new InvalidOperationException($"'{key}' is {root.GetProperty(key).ValueKind}, expected a string");

    private static JsonElement Get(JsonElement root, string key) =>
        root.ValueKind != JsonValueKind.Object ? throw new InvalidOperationException($"expected a JSON object, found {root.ValueKind}")
        : root.TryGetProperty(key, out var value) ? value
        : throw new KeyNotFoundException($"missing key '{key}'");
}

using System.Text.Json;
using System.Text.Json.Nodes;

namespace RaftPipeline.Stages.Report;

/// <summary>Tolerant reads of the report's JSON inputs: a wrong type is a <see cref="FormatException"/> naming the key.</summary>
internal static class ReportJson
{
    /// <summary>The number at <paramref name="key"/>; null when absent or JSON null.</summary>
    public static double? Number(JsonObject o, string key) => o[key] switch
    {
        null => null,
        JsonValue v when v.GetValueKind() == JsonValueKind.Number => v.GetValue<double>(),
        var other => throw new FormatException($"\"{key}\" should be a number, found {other.GetValueKind().ToString().ToLowerInvariant()}"),
    };

    public static long? Integer(JsonObject o, string key) => Number(o, key) switch
    {
        null => null,
        double d when d == Math.Floor(d) && Math.Abs(d) < 9e15 => (long)d,
        double d => throw new FormatException($"\"{key}\" should be a whole number, found {d}"),
    };

    /// <summary>The string at <paramref name="key"/>; null when absent or JSON null.</summary>
    public static string? Text(JsonObject o, string key) => o[key] switch
    {
        null => null,
        JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
        var other => throw new FormatException($"\"{key}\" should be a string, found {other.GetValueKind().ToString().ToLowerInvariant()}"),
    };

    /// <summary>
    /// An error's message for a note. System.Text.Json's ends with a 0-based " LineNumber: l | BytePositionInLine: b.";
    /// that becomes a 1-based "at line l, byte b" (or "at byte b" for a JSONL line, whose line the note already names).
    /// </summary>
    public static string Describe(Exception e, bool withLine = true)
    {
        if (e is not JsonException { BytePositionInLine: { } position } json) return e.Message;
        var message = e.Message;
        var cut = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        if (cut >= 0) message = message[..cut];
        var at = withLine && json.LineNumber is { } line ? $"at line {line + 1}, byte {position + 1}" : $"at byte {position + 1}";
        return $"{message.TrimEnd()} ({at})";
    }

    /// <summary>Parses a file holding one JSON object.</summary>
    public static JsonObject ReadObject(string path) =>
        JsonNode.Parse(File.ReadAllText(path)) as JsonObject ?? throw new FormatException("expected a JSON object");

    /// <summary>
    /// Scalar leaves of <paramref name="o"/> as (dotted key, value) pairs in document order: what a key/value table
    /// of metrics or a summary shows. Arrays are summarized by their length.
    /// </summary>
    public static IReadOnlyList<(string Key, JsonNode? Value)> Flatten(JsonObject o)
    {
        var result = new List<(string, JsonNode?)>();
        Walk(o, "");
        return result;

        void Walk(JsonObject node, string prefix)
        {
            foreach (var (key, value) in node)
            {
                var name = prefix + key;
                switch (value)
                {
                    case JsonObject inner: Walk(inner, name + "."); break;
                    case JsonArray array: result.Add((name, JsonValue.Create($"[{array.Count} items]"))); break;
                    default: result.Add((name, value)); break;
                }
            }
        }
    }
}

using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace RaftPipeline.Stages.Data;

/// <summary>
/// The dataset artifact: one JSON object per line, UTF-8 without BOM, '\n' line ends, keys in a fixed order and
/// Korean written as-is (not \uXXXX) so a diff of two artifacts is readable.
/// </summary>
public static class DatasetJsonl
{
    private static readonly JsonWriterOptions WriterOptions = new()
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Indented = false,
    };

    public static void Write(string path, IEnumerable<DatasetRow> rows)
    {
        using var stream = File.Create(path);
        Write(stream, rows);
    }

    public static void Write(Stream stream, IEnumerable<DatasetRow> rows)
    {
        var buffer = new MemoryStream();
        foreach (var row in rows)
        {
            buffer.SetLength(0);
            using (var json = new Utf8JsonWriter(buffer, WriterOptions))
            {
                json.WriteStartObject();
                json.WriteString("context", row.Context);
                json.WriteString("question", row.Question);
                json.WriteString("answer", row.Answer);
                json.WriteBoolean("answerable", row.Answerable);
                json.WriteString("source", row.Source);
                json.WriteNumber("row", row.SourceRow);
                json.WriteEndObject();
            }
            buffer.WriteByte((byte)'\n');
            buffer.Position = 0;
            buffer.CopyTo(stream);
        }
    }

    public static List<DatasetRow> Read(string path)
    {
        var rows = new List<DatasetRow>();
        int lineNumber = 0;
        foreach (var line in File.ReadLines(path, new UTF8Encoding(false, throwOnInvalidBytes: true)))
        {
            lineNumber++;
            if (line.Length == 0) continue;
            rows.Add(ParseLine(path, lineNumber, line));
        }
        return rows;
    }

    private static DatasetRow ParseLine(string path, int lineNumber, string line)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(line);
        }
        catch (JsonException e)
        {
            throw new DatasetFormatException($"{path}: line {lineNumber}: not a JSON object: {e.Message}", e);
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw new DatasetFormatException($"{path}: line {lineNumber}: expected a JSON object, found {root.ValueKind}");
            return new DatasetRow(
                String(root, "context"),
                String(root, "question"),
                String(root, "answer"),
                Get(root, "answerable", JsonValueKind.True, JsonValueKind.False).GetBoolean(),
                String(root, "source"),
                Get(root, "row", JsonValueKind.Number).GetInt32());
        }

        string String(JsonElement root, string key) => Get(root, key, JsonValueKind.String).GetString()!;

        JsonElement Get(JsonElement root, string key, params JsonValueKind[] kinds)
        {
            if (!root.TryGetProperty(key, out var value))
                throw new DatasetFormatException($"{path}: line {lineNumber}: missing key '{key}'");
            if (!kinds.Contains(value.ValueKind))
                throw new DatasetFormatException(
                    $"{path}: line {lineNumber}: key '{key}' is {value.ValueKind}, expected {string.Join(" or ", kinds)}");
            return value;
        }
    }
}

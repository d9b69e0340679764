using System.Text.Json;
using RaftPipeline.Stages.Data;

namespace RaftPipeline.Stages.Load;

/// <summary>Reads a JSONL data file: one JSON object per line with the mapped keys as strings; blank lines are skipped and counted.</summary>
public static class JsonlDatasetReader
{
    public static LoadedFile Read(string file, byte[] bytes, TextEncodingKind encoding, ColumnMapping columns, string refusalAnswer)
    {
        var decoded = StrictTextDecoder.Decode(file, bytes, encoding, DescribeLine);
        var factory = new RowFactory(file, refusalAnswer);
        var rows = new List<DatasetRow>();
        int empty = 0;
        var lines = decoded.Text.Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            string line = lines[i].TrimEnd('\r');
            int lineNumber = i + 1;
            if (string.IsNullOrWhiteSpace(line))
            {
                // The newline that ends the last line does not start an empty row.
                if (i < lines.Length - 1 || line.Length > 0) empty++;
                continue;
            }
            string where = $"line {lineNumber}";
            using var document = Parse(file, where, line);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw new DatasetLoadException($"{file}: {where}: expected a JSON object, found {Kind(root.ValueKind)}");
            rows.Add(factory.Create(lineNumber, where,
                Field(root, columns.Context), Field(root, columns.Question), Field(root, columns.Answer), columns));

            string Field(JsonElement obj, string key)
            {
                if (!obj.TryGetProperty(key, out var value))
                {
                    var missing = columns.Pairs().Where(p => !obj.TryGetProperty(p.Column, out _)).Select(p => $"'{p.Column}' (for {p.Field})");
                    var found = obj.EnumerateObject().Select(p => $"'{p.Name}'");
                    throw new DatasetLoadException(
                        $"{file}: {where}: missing key(s) {string.Join(", ", missing)}; the object has keys {string.Join(", ", found)}");
                }
                return value.ValueKind == JsonValueKind.String
                    ? value.GetString()!
                    : throw new DatasetLoadException($"{file}: {where}: key '{key}' is {Kind(value.ValueKind)}, expected a string");
            }
        }
        return new LoadedFile(file, LoadedFile.HashOf(bytes), DataFileFormat.Jsonl, TextEncodingNames.Display(decoded.Encoding), decoded.How, rows, empty);
    }

    private static string DescribeLine(string textBefore) => $"line {textBefore.Count(c => c == '\n') + 1}";

    private static JsonDocument Parse(string file, string where, string line)
    {
        try
        {
            return JsonDocument.Parse(line);
        }
        catch (JsonException e)
        {
            throw new DatasetLoadException($"{file}: {where}: not valid JSON: {e.Message}", e);
        }
    }

    private static string Kind(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => kind.ToString(),
    };
}

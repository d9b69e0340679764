using System.Text.Json;

namespace RaftPipeline.Stages.Generate;

/// <summary>
/// The ids a model folder's <c>generation_config.json</c> sets (transformers' GenerationConfig): the eos ids that
/// end an answer (an int or a list) and the pad id. Absent file: no ids (the caller falls back on config.json and
/// the tokenizer).
/// </summary>
public sealed record GenerationConfigFile(IReadOnlyList<int> EosTokenIds, int? PadTokenId)
{
    public const string FileName = "generation_config.json";

    public static GenerationConfigFile Read(string modelDirectory)
    {
        string path = Path.Combine(modelDirectory, FileName);
        if (!File.Exists(path)) return new([], null);
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(File.ReadAllText(path));
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: not valid JSON: {e.Message}", e);
        }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{path}: expected a JSON object");
            var eos = new List<int>();
            if (root.TryGetProperty("eos_token_id", out var e))
            {
                switch (e.ValueKind)
                {
                    case JsonValueKind.Number: eos.Add(Id(e, path, "eos_token_id")); break;
                    case JsonValueKind.Array:
                        int i = 0;
                        foreach (var item in e.EnumerateArray()) eos.Add(Id(item, path, $"eos_token_id[{i++}]"));
                        break;
                    case JsonValueKind.Null: break;
                    default: throw new InvalidDataException($"{path}: \"eos_token_id\" is {e.ValueKind}, expected an integer or a list of integers");
                }
            }
            int? pad = root.TryGetProperty("pad_token_id", out var p) && p.ValueKind != JsonValueKind.Null ? Id(p, path, "pad_token_id") : null;
            return new(eos, pad);
        }
    }

    static int Id(JsonElement e, string path, string key) =>
        e.ValueKind == JsonValueKind.Number && e.TryGetInt32(out var id) && id >= 0
            ? id
            : throw new InvalidDataException($"{path}: \"{key}\" is {e.GetRawText()}, expected a non-negative integer token id");
}

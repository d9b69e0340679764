using System.Text.Json;

namespace RaftPipeline.Modeling.Generation;

/// <summary>
/// The fields of a model folder's generation_config.json that decide how transformers' generate() runs when the
/// caller passes nothing: eos/pad ids, do_sample, temperature, top_k, top_p, repetition_penalty, max_new_tokens.
/// Absent keys stay null; the file itself is optional (transformers falls back to config.json's ids).
/// </summary>
public sealed record GenerationConfigFile
{
    public const string FileName = "generation_config.json";

    public IReadOnlyList<int>? EosTokenIds { get; init; }
    public int? PadTokenId { get; init; }
    public bool? DoSample { get; init; }
    public double? Temperature { get; init; }
    public int? TopK { get; init; }
    public double? TopP { get; init; }
    public double? RepetitionPenalty { get; init; }
    public int? MaxNewTokens { get; init; }

    public static GenerationConfigFile Empty { get; } = new();

    /// <summary>Reads DIR/generation_config.json, or <see cref="Empty"/> when there is none.</summary>
    /// <exception cref="InvalidDataException">Not JSON, or a key of the wrong type (named, with what was expected).</exception>
    public static GenerationConfigFile ReadFolder(string directory)
    {
        var path = Path.Combine(directory, FileName);
        return File.Exists(path) ? Parse(File.ReadAllText(path), path) : Empty;
    }

    public static GenerationConfigFile Parse(string json, string path)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: line {(e.LineNumber ?? 0) + 1}, column {(e.BytePositionInLine ?? 0) + 1}: not valid JSON", e);
        }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{path}: expected a JSON object");

            JsonElement? Get(string key) =>
                root.TryGetProperty(key, out var v) && v.ValueKind != JsonValueKind.Null ? v : null;
            InvalidDataException Wrong(string key, string expected) =>
                new($"{path}: \"{key}\" is {root.GetProperty(key).GetRawText()}, expected {expected}");
            int? Int(string key) => Get(key) is { } v
                ? v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var i) ? i : throw Wrong(key, "an integer")
                : null;
            double? Double(string key) => Get(key) is { } v
                ? v.ValueKind == JsonValueKind.Number ? v.GetDouble() : throw Wrong(key, "a number")
                : null;
            bool? Bool(string key) => Get(key) is { } v
                ? v.ValueKind is JsonValueKind.True or JsonValueKind.False ? v.GetBoolean() : throw Wrong(key, "true or false")
                : null;

            // eos_token_id is an int or a list of ints (Qwen3 ships [151645, 151643]).
            IReadOnlyList<int>? eos = Get("eos_token_id") switch
            {
                null => null,
                { ValueKind: JsonValueKind.Number } v when v.TryGetInt32(out var one) => [one],
                { ValueKind: JsonValueKind.Array } a when a.EnumerateArray().All(e => e.ValueKind == JsonValueKind.Number && e.TryGetInt32(out _)) =>
                    a.EnumerateArray().Select(e => e.GetInt32()).ToList(),
                _ => throw Wrong("eos_token_id", "an integer or a list of integers"),
            };
            return new GenerationConfigFile
            {
                EosTokenIds = eos,
                PadTokenId = Int("pad_token_id"),
                DoSample = Bool("do_sample"),
                Temperature = Double("temperature"),
                TopK = Int("top_k"),
                TopP = Double("top_p"),
                RepetitionPenalty = Double("repetition_penalty"),
                MaxNewTokens = Int("max_new_tokens"),
            };
        }
    }
}

using System.Text.Json;

namespace RaftPipeline.Export.Source;

/// <summary>Typed reads of one config.json object, each failure naming the file and the key.</summary>
public sealed class ConfigJson(string path, JsonElement element, string prefix = "")
{
    public string Path { get; } = path;

    JsonElement? Get(string key) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(key, out var v) && v.ValueKind != JsonValueKind.Null ? v : null;

    public bool Has(string key) => Get(key) is not null;

    public ExportException Error(string key, string message) => new(Path, $"\"{prefix}{key}\" {message}");

    public int? OptionalInt(string key) => Get(key) is { } v
        ? v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var i) ? i : throw Error(key, "must be an integer")
        : null;

    public int Int(string key) => OptionalInt(key) ?? throw Error(key, "is missing (an integer)");

    public double? OptionalDouble(string key) => Get(key) is { } v
        ? v.ValueKind == JsonValueKind.Number ? v.GetDouble() : throw Error(key, "must be a number")
        : null;

    public string? OptionalString(string key) => Get(key) is { } v
        ? v.ValueKind == JsonValueKind.String ? v.GetString() : throw Error(key, "must be a string")
        : null;

    public bool? OptionalBool(string key) => Get(key) is { } v
        ? v.ValueKind is JsonValueKind.True or JsonValueKind.False ? v.GetBoolean() : throw Error(key, "must be true or false")
        : null;

    public IReadOnlyList<string>? OptionalStringList(string key) => Get(key) is { } v
        ? v.ValueKind == JsonValueKind.Array ? v.EnumerateArray().Select(e => e.GetString() ?? "").ToList() : throw Error(key, "must be a list of strings")
        : null;

    public IReadOnlyList<int> IntOrIntList(string key) => Get(key) switch
    {
        null => [],
        { ValueKind: JsonValueKind.Array } a => a.EnumerateArray().Select(e => e.TryGetInt32(out var i) ? i : throw Error(key, "must hold integers")).ToList(),
        { ValueKind: JsonValueKind.Number } n when n.TryGetInt32(out var i) => [i],
        _ => throw Error(key, "must be an integer or a list of integers"),
    };

    /// <summary>A nested object (e.g. rope_parameters), or null.</summary>
    public ConfigJson? OptionalObject(string key) => Get(key) is { ValueKind: JsonValueKind.Object } o ? new ConfigJson(Path, o, $"{prefix}{key}.") : null;
}

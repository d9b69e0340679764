using System.Text.Json;

namespace RaftPipeline.Modeling.Config;

/// <summary>
/// Typed reads of one JSON object of a config.json, each error naming the file and the key (with
/// <paramref name="prefix"/> for nested objects such as rope_parameters).
/// </summary>
public sealed class ConfigJsonReader(JsonElement obj, string file, string prefix = "")
{
    JsonElement? Get(string key) =>
        obj.TryGetProperty(key, out var v) && v.ValueKind != JsonValueKind.Null ? v : null;

    ModelConfigException Wrong(string key, string expected, JsonElement v) =>
        new(file, prefix + key, $"expected {expected}, found {v.GetRawText()}");

    ModelConfigException Missing(string key, string expected) =>
        new(file, prefix + key, $"missing required field ({expected})");

    public string String(string key) => OptionalString(key) ?? throw Missing(key, "a string");
    public int Int(string key) => OptionalInt(key) ?? throw Missing(key, "an integer");
    public double Double(string key) => OptionalDouble(key) ?? throw Missing(key, "a number");

    public string? OptionalString(string key) => Get(key) is { } v
        ? (v.ValueKind == JsonValueKind.String ? v.GetString() : throw Wrong(key, "a string", v))
        : null;

    public int? OptionalInt(string key) => Get(key) is { } v
        ? (v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var i) ? i : throw Wrong(key, "an integer", v))
        : null;

    public double? OptionalDouble(string key) => Get(key) is { } v
        ? (v.ValueKind == JsonValueKind.Number ? v.GetDouble() : throw Wrong(key, "a number", v))
        : null;

    public bool? OptionalBool(string key) => Get(key) is { } v
        ? v.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw Wrong(key, "true or false", v),
        }
        : null;

    public IReadOnlyList<int> IntOrIntList(string key)
    {
        if (Get(key) is not { } v) return [];
        if (v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var single)) return [single];
        if (v.ValueKind == JsonValueKind.Array)
            return v.EnumerateArray().Select(e => e.ValueKind == JsonValueKind.Number && e.TryGetInt32(out var x) ? x : throw Wrong(key, "integers", e)).ToList();
        throw Wrong(key, "an integer or a list of integers", v);
    }

    /// <summary>The config file this reader reports errors against.</summary>
    public string File => file;

    /// <summary>Whether the key is present with a non-null value.</summary>
    public bool Has(string key) => Get(key) is not null;

    /// <summary>A reader over the nested object at <paramref name="key"/>, or null when absent.</summary>
    public ConfigJsonReader? OptionalObject(string key) => Get(key) is { } v
        ? (v.ValueKind == JsonValueKind.Object ? new ConfigJsonReader(v, file, prefix + key + ".") : throw Wrong(key, "an object", v))
        : null;

    /// <summary>The raw element at <paramref name="key"/>, or null.</summary>
    public JsonElement? Raw(string key) => Get(key);

    /// <summary>A list of strings (e.g. layer_types), or null when absent.</summary>
    public IReadOnlyList<string>? OptionalStringList(string key)
    {
        if (Get(key) is not { } v) return null;
        if (v.ValueKind != JsonValueKind.Array) throw Wrong(key, "a list of strings", v);
        return v.EnumerateArray().Select(e => e.ValueKind == JsonValueKind.String ? e.GetString()! : throw Wrong(key, "strings", e)).ToList();
    }

    /// <summary>A list of numbers (e.g. longrope's short_factor), or null when absent.</summary>
    public IReadOnlyList<double>? OptionalDoubleList(string key)
    {
        if (Get(key) is not { } v) return null;
        if (v.ValueKind != JsonValueKind.Array) throw Wrong(key, "a list of numbers", v);
        return v.EnumerateArray().Select(e => e.ValueKind == JsonValueKind.Number ? e.GetDouble() : throw Wrong(key, "numbers", e)).ToList();
    }

    /// <summary>The property names of this object (to refuse options that are not understood).</summary>
    public IEnumerable<string> Keys => obj.EnumerateObject().Select(p => p.Name);

    /// <summary>An error on <paramref name="key"/> of this object.</summary>
    public ModelConfigException Error(string key, string problem) => new(file, prefix + key, problem);
}

using System.Text.Json;

namespace RaftPipeline.Serving.Protocol;

/// <summary>
/// Typed reads of a request body's fields; a field of the wrong type or out of range is an
/// <see cref="OpenAiException"/> naming it and what was expected. Absent and null fields read as null.
/// </summary>
public sealed class JsonFields(JsonElement root)
{
    public JsonElement Root { get; } = root.ValueKind == JsonValueKind.Object
        ? root
        : throw OpenAiException.BadRequest($"the request body is {Kind(root)}, expected a JSON object", null, "invalid_json");

    public JsonElement? Get(string name) =>
        Root.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null ? v : null;

    public string? String(string name, bool required = false)
    {
        var v = Get(name);
        if (v is null) return required ? throw OpenAiException.BadRequest($"'{name}' is required", name, "missing_required_parameter") : null;
        return v.Value.ValueKind == JsonValueKind.String ? v.Value.GetString() : throw Wrong(name, v.Value, "a string");
    }

    public bool? Bool(string name)
    {
        var v = Get(name);
        if (v is null) return null;
        return v.Value.ValueKind is JsonValueKind.True or JsonValueKind.False ? v.Value.GetBoolean() : throw Wrong(name, v.Value, "true or false");
    }

    public long? Integer(string name, long min = long.MinValue, long max = long.MaxValue)
    {
        var v = Get(name);
        if (v is null) return null;
        if (v.Value.ValueKind != JsonValueKind.Number || !v.Value.TryGetInt64(out var i)) throw Wrong(name, v.Value, "an integer");
        if (i < min || i > max) throw OutOfRange(name, v.Value, min == long.MinValue ? $"at most {max}" : max == long.MaxValue ? $"at least {min}" : $"from {min} to {max}");
        return i;
    }

    public double? Number(string name, double min, double max, bool minExclusive = false)
    {
        var v = Get(name);
        if (v is null) return null;
        if (v.Value.ValueKind != JsonValueKind.Number) throw Wrong(name, v.Value, "a number");
        double d = v.Value.GetDouble();
        if ((minExclusive ? d <= min : d < min) || d > max)
            throw OutOfRange(name, v.Value, double.IsPositiveInfinity(max) ? $"{(minExclusive ? ">" : "≥")} {min}" : $"in {(minExclusive ? "(" : "[")}{min}, {max}]");
        return d;
    }

    /// <summary>The OpenAI <c>stop</c> field: a string or a list of up to 4 non-empty strings.</summary>
    public IReadOnlyList<string> StopStrings(string name = "stop")
    {
        var v = Get(name);
        if (v is null) return [];
        List<string> stops = v.Value.ValueKind switch
        {
            JsonValueKind.String => [v.Value.GetString()!],
            JsonValueKind.Array when v.Value.EnumerateArray().All(e => e.ValueKind == JsonValueKind.String) =>
                v.Value.EnumerateArray().Select(e => e.GetString()!).ToList(),
            _ => throw Wrong(name, v.Value, "a string or a list of strings"),
        };
        if (stops.Count > 4) throw OpenAiException.BadRequest($"'{name}' has {stops.Count} strings, at most 4 are allowed", name, "invalid_value");
        if (stops.Any(s => s.Length == 0)) throw OpenAiException.BadRequest($"'{name}' holds an empty string", name, "invalid_value");
        return stops;
    }

    static OpenAiException Wrong(string name, JsonElement value, string expected) =>
        OpenAiException.BadRequest($"'{name}' is {Kind(value)}, expected {expected}", name, "invalid_type");

    static OpenAiException OutOfRange(string name, JsonElement value, string expected) =>
        OpenAiException.BadRequest($"'{name}' is {value.GetRawText()}, expected {expected}", name, "invalid_value");

    static string Kind(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "a list",
        JsonValueKind.String => $"the string {value.GetRawText()}",
        JsonValueKind.Number => $"the number {value.GetRawText()}",
        JsonValueKind.True or JsonValueKind.False => value.GetRawText(),
        _ => "null",
    };
}

using System.Text.Json;

namespace RaftPipeline.Text.Tokenization;

/// <summary>A JSON element with its file and JSON path, so every complaint names where it is.</summary>
internal readonly record struct JsonCursor(string File, string Path, JsonElement Element)
{
    public static JsonDocument Parse(Stream stream, string file)
    {
        try
        {
            return JsonDocument.Parse(stream, new JsonDocumentOptions { AllowTrailingCommas = false });
        }
        catch (JsonException e)
        {
            // System.Text.Json counts lines and bytes from 0.
            throw new TokenizerFormatException(file, (e.LineNumber ?? 0) + 1, (e.BytePositionInLine ?? 0) + 1,
                "malformed JSON: " + e.Message, e);
        }
    }

    public JsonValueKind Kind => Element.ValueKind;

    public bool IsNull => Element.ValueKind is JsonValueKind.Null or JsonValueKind.Undefined;

    public TokenizerFormatException Error(string problem) => new(File, Path, problem);

    public JsonCursor Required(string name)
    {
        ExpectKind(JsonValueKind.Object);
        return Element.TryGetProperty(name, out var value)
            ? new JsonCursor(File, $"{Path}.{name}", value)
            : throw Error($"missing the required key '{name}'");
    }

    /// <summary>The property, or null when absent or JSON null.</summary>
    public JsonCursor? Optional(string name)
    {
        ExpectKind(JsonValueKind.Object);
        return Element.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null
            ? new JsonCursor(File, $"{Path}.{name}", value)
            : null;
    }

    public IEnumerable<JsonCursor> Items()
    {
        ExpectKind(JsonValueKind.Array);
        var index = 0;
        foreach (var item in Element.EnumerateArray()) yield return new JsonCursor(File, $"{Path}[{index++}]", item);
    }

    public string String()
    {
        ExpectKind(JsonValueKind.String);
        return Element.GetString()!;
    }

    public bool Bool() => Element.ValueKind switch
    {
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        _ => throw Error($"expected true or false, found {Describe()}"),
    };

    public int Int()
    {
        ExpectKind(JsonValueKind.Number);
        return Element.TryGetInt32(out var value) ? value : throw Error($"expected a 32-bit integer, found {Element.GetRawText()}");
    }

    public void ExpectKind(JsonValueKind kind)
    {
        if (Element.ValueKind != kind) throw Error($"expected {Name(kind)}, found {Describe()}");
    }

    public string Describe() => Element.ValueKind switch
    {
        JsonValueKind.String => $"the string \"{Element.GetString()}\"",
        JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False or JsonValueKind.Null => Element.GetRawText(),
        var other => Name(other),
    };

    static string Name(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "true or false",
        _ => "null",
    };
}

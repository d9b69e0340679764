using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using RaftPipeline.Core.Spec;

namespace RaftPipeline.Core.Engine;

/// <summary>
/// A stage's typed parameter record as a JSON object with snake_case keys: the form that enters the stage
/// key, the manifest and the lock file. The record's property types decide number forms (an int stays an
/// integer, a double is canonicalised by <see cref="CanonicalJson"/>); enums are written by name so
/// reordering an enum's members never changes a key. Null properties are left out, so adding an optional
/// parameter (null by default) to a record keeps the keys of every spec that does not set it.
/// </summary>
public static class CanonicalParameters
{
    public static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DictionaryKeyPolicy = null,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
        WriteIndented = false,
    };

    public static JsonObject ToJson(StageParameters parameters) =>
        JsonSerializer.SerializeToNode(parameters, parameters.GetType(), Options) as JsonObject
        ?? throw new InvalidOperationException($"parameters of type {parameters.GetType().Name} did not serialize to a JSON object");

    /// <summary>The canonical text: sorted keys, canonical numbers, no whitespace.</summary>
    public static string ToCanonicalText(StageParameters parameters) => CanonicalJson.Write(ToJson(parameters));
}

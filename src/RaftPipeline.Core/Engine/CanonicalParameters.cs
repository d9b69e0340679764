using System.Text.Json.Nodes;
using RaftPipeline.Core.Spec;

namespace RaftPipeline.Core.Engine;

/// <summary>
/// A stage's typed parameter record as the JSON object that enters its key, its manifest and the lock file:
/// the names the YAML uses (<see cref="SpecJson.Parameters"/>: snake_case keys, enum values as specs spell
/// them, every default filled), so the record's property types decide number forms and <c>1e-4</c> and
/// <c>0.0001</c> are one double. Null values are left out, so adding an optional parameter (null by default)
/// to a record keeps the keys of every spec that does not set it. Parameters marked <see cref="NotInKeyAttribute"/>
/// (they cannot change the result) are left out too.
/// </summary>
public static class CanonicalParameters
{
    public static JsonObject ToJson(StageParameters parameters)
    {
        var json = WithSettings(parameters);
        foreach (var (key, property) in SpecNames.Fields(parameters.GetType()))
            if (property.IsDefined(typeof(NotInKeyAttribute), inherit: true)) json.Remove(key);
        return json;
    }

    /// <summary>
    /// Every parameter, those that are not in the key included, nulls left out: what a resolved spec writes, so that
    /// it reproduces the run as it ran (checkpoint settings too).
    /// </summary>
    public static JsonObject WithSettings(StageParameters parameters) => WithoutNulls(SpecJson.Parameters(parameters));

    /// <summary>The canonical text: sorted keys, canonical numbers, no whitespace.</summary>
    public static string ToCanonicalText(StageParameters parameters) => CanonicalJson.Write(ToJson(parameters));

    static JsonObject WithoutNulls(JsonObject o)
    {
        var copy = new JsonObject();
        foreach (var (key, value) in o)
        {
            if (value is null) continue;
            copy[key] = value is JsonObject nested ? WithoutNulls(nested) : value.DeepClone();
        }
        return copy;
    }
}

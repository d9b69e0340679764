using System.Text.Json.Nodes;
using RaftPipeline.Core.Spec.Internal;

namespace RaftPipeline.Core.Spec;

/// <summary>
/// Bound specs and parameter records as JSON, with the names the YAML uses (snake_case keys, enum values as
/// written in specs) and every default filled: the resolved spec a run folder records, and a canonical input
/// for hashing (keys in declaration order; numbers as doubles/longs, so <c>1e-4</c> and <c>0.0001</c> agree).
/// </summary>
public static class SpecJson
{
    /// <summary>A parameter record (or nested record) as a JSON object, every field present (null where unset).</summary>
    public static JsonObject Parameters(object record)
    {
        var json = new JsonObject();
        foreach (var (key, property) in SpecNames.Fields(record.GetType()))
            json[key] = Value(property.GetValue(record));
        return json;
    }

    /// <summary>The whole resolved spec: what ran, after vars, overrides and defaults.</summary>
    public static JsonObject Resolved(PipelineSpec spec)
    {
        var stages = new JsonObject();
        foreach (var stage in spec.Stages)
        {
            var inputs = new JsonObject();
            foreach (var (slot, values) in stage.Inputs)
                inputs[slot] = new JsonArray(values.Select(Input).ToArray<JsonNode?>());
            stages[stage.Name] = new JsonObject
            {
                ["kind"] = stage.Kind,
                ["inputs"] = inputs,
                ["params"] = Parameters(stage.Parameters),
            };
        }
        return new JsonObject
        {
            ["name"] = spec.Name,
            ["seed"] = spec.Seed,
            ["device"] = SpecNames.Of(spec.Device),
            ["cache"] = spec.CacheDirectory,
            ["source"] = spec.SourceFile,
            ["vars"] = new JsonObject(spec.Vars.Select(v => KeyValuePair.Create(v.Key, (JsonNode?)JsonValue.Create(v.Value)))),
            ["stages"] = stages,
        };
    }

    static JsonNode Input(StageInput input) => input switch
    {
        StageInput.FromStage s => new JsonObject { ["stage"] = s.Stage },
        StageInput.FromPath p => new JsonObject { ["path"] = p.Path },
        StageInput.FromHub h => new JsonObject { ["hub"] = h.Id.ToString() },
        _ => throw new NotSupportedException(input.GetType().Name),
    };

    internal static JsonNode? Value(object? value) => value switch
    {
        null => null,
        string s => JsonValue.Create(s),
        bool b => JsonValue.Create(b),
        int i => JsonValue.Create(i),
        long l => JsonValue.Create(l),
        double d => JsonValue.Create(d),
        Enum e => JsonValue.Create(SpecNames.Of(e)),
        System.Collections.IEnumerable list => new JsonArray(list.Cast<object?>().Select(Value).ToArray()),
        _ when ParameterBinder.ListItemType(value.GetType()) is null && value.GetType().IsClass => Parameters(value),
        _ => throw new NotSupportedException($"cannot write {value.GetType()} as spec JSON"),
    };
}

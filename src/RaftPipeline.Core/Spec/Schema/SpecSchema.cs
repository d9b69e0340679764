using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Reflection;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using RaftPipeline.Core.Spec.Internal;

namespace RaftPipeline.Core.Spec.Schema;

/// <summary>
/// The JSON Schema (draft 2020-12) of a spec, generated from the same records and catalog the loader binds, so
/// editors complete and check what the loader accepts. Committed as pipelines/raft.schema.json (a test keeps it
/// in step) and printed by <c>dotnet raft schema</c>.
/// </summary>
public static class SpecSchema
{
    const string VarReference = "varReference";

    public static JsonObject Generate()
    {
        var defs = new JsonObject();
        var kindNames = StageKindCatalog.Kinds.Select(k => (JsonNode?)k.Name).ToArray();

        var stage = new JsonObject
        {
            ["type"] = "object",
            ["description"] = "A stage: its kind, what it reads (inputs) and its parameters (params).",
            ["required"] = new JsonArray("kind"),
            ["properties"] = new JsonObject
            {
                ["kind"] = new JsonObject
                {
                    ["description"] = "What the stage does.",
                    ["enum"] = new JsonArray(kindNames),
                },
                ["inputs"] = new JsonObject { ["type"] = "object", ["description"] = "Input slot → a stage name or a path relative to the spec file (or a list of them, where the slot takes several)." },
                ["params"] = new JsonObject { ["type"] = new JsonArray("object", "null"), ["description"] = "Parameters of the stage kind; absent keys take their defaults." },
            },
            ["additionalProperties"] = false,
            ["allOf"] = new JsonArray(StageKindCatalog.Kinds.Select(kind => (JsonNode?)KindRule(kind, defs)).ToArray()),
        };

        var header = RecordSchema(typeof(PipelineHeader), defs);
        var properties = (JsonObject)header["properties"]!.DeepClone();
        properties["vars"] = new JsonObject
        {
            ["type"] = "object",
            ["description"] = "Named values; ${vars.NAME} inside any value of the spec is replaced by them (a value that is exactly one reference takes the variable's type).",
            ["propertyNames"] = new JsonObject { ["pattern"] = "^[A-Za-z0-9_.-]+$" },
            ["additionalProperties"] = new JsonObject { ["type"] = new JsonArray("string", "number", "boolean") },
        };
        properties["export"] = new JsonObject
        {
            ["type"] = "object",
            ["description"] = "Stage name → folder (relative to the spec file): after the run, `raft run` copies that stage's artifact there, writable, replacing the folder atomically (`--export STAGE=DIR` on the command line does the same). Not a stage: a stage of kind `export` converts a model (e.g. to GGUF) inside the pipeline; this key only copies artifacts out.",
            ["propertyNames"] = new JsonObject { ["pattern"] = "^[a-z][a-z0-9_-]*$" },
            ["additionalProperties"] = new JsonObject { ["type"] = "string", ["minLength"] = 1 },
        };
        properties["stages"] = new JsonObject
        {
            ["type"] = "object",
            ["description"] = "Stage name → stage. A stage reads another by naming it in its inputs; the order of execution follows from that.",
            ["minProperties"] = 1,
            ["propertyNames"] = new JsonObject { ["pattern"] = "^[a-z][a-z0-9_-]*$" },
            ["additionalProperties"] = new JsonObject { ["$ref"] = "#/$defs/stage" },
        };
        defs.Remove(nameof(PipelineHeader));
        defs["stage"] = stage;
        defs[VarReference] = new JsonObject
        {
            ["type"] = "string",
            ["description"] = "A reference to a variable, replaced by its value before validation.",
            ["pattern"] = @"^\$\{vars\.[A-Za-z0-9_.-]+\}$",
        };

        return new JsonObject
        {
            ["$schema"] = "https://json-schema.org/draft/2020-12/schema",
            ["title"] = "RaftPipeline pipeline spec",
            ["description"] = "A LoRA/QLoRA fine-tuning pipeline: named stages whose inputs name other stages or paths. Generated from the typed records by `dotnet raft schema`; do not edit by hand.",
            ["type"] = "object",
            ["required"] = new JsonArray("name", "stages"),
            ["properties"] = properties,
            ["additionalProperties"] = false,
            ["$defs"] = Sorted(defs),
        };
    }

    /// <summary>The schema as committed: indented, non-ASCII text kept readable, a final newline.</summary>
    public static string ToJsonText() =>
        Generate().ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }) + "\n";

    static JsonObject KindRule(StageKindInfo kind, JsonObject defs)
    {
        var inputsName = $"{kind.Name}.inputs";
        var slots = new JsonObject();
        foreach (var slot in kind.Slots)
        {
            var one = new JsonObject { ["type"] = "string", ["description"] = $"{slot.Description} Expected: {slot.Expectation}." };
            slots[slot.Name] = slot.Many
                ? new JsonObject
                {
                    ["description"] = one["description"]!.GetValue<string>(),
                    ["anyOf"] = new JsonArray(
                        new JsonObject { ["type"] = "string" },
                        new JsonObject { ["type"] = "array", ["items"] = new JsonObject { ["type"] = "string" }, ["minItems"] = 1 }),
                }
                : one;
        }
        defs[inputsName] = new JsonObject
        {
            ["type"] = "object",
            ["description"] = $"Inputs of a {kind.Name} stage.",
            ["required"] = new JsonArray(kind.Slots.Where(s => s.Required).Select(s => (JsonNode?)s.Name).ToArray()),
            ["properties"] = slots,
            ["additionalProperties"] = false,
        };
        RecordSchema(kind.ParametersType, defs);
        return new JsonObject
        {
            ["if"] = new JsonObject { ["properties"] = new JsonObject { ["kind"] = new JsonObject { ["const"] = kind.Name } }, ["required"] = new JsonArray("kind") },
            ["then"] = new JsonObject
            {
                ["description"] = kind.Description,
                ["required"] = kind.Slots.Any(s => s.Required) ? new JsonArray("inputs") : new JsonArray(),
                ["properties"] = new JsonObject
                {
                    ["inputs"] = new JsonObject { ["$ref"] = $"#/$defs/{inputsName}" },
                    ["params"] = new JsonObject
                    {
                        ["anyOf"] = new JsonArray(new JsonObject { ["$ref"] = $"#/$defs/{kind.ParametersType.Name}" }, new JsonObject { ["type"] = "null" }),
                    },
                },
            },
        };
    }

    /// <summary>Adds the record (and the records it nests) to <paramref name="defs"/>; returns its schema.</summary>
    static JsonObject RecordSchema(Type type, JsonObject defs)
    {
        if (defs[type.Name] is JsonObject existing) return existing;
        var schema = new JsonObject { ["type"] = "object" };
        defs[type.Name] = schema; // before the fields, so a record nesting itself terminates
        if (type.GetCustomAttribute<DescriptionAttribute>() is { } description) schema["description"] = description.Description;
        var defaults = Activator.CreateInstance(type)!;
        var properties = new JsonObject();
        var required = new JsonArray();
        foreach (var (key, property) in SpecNames.Fields(type))
        {
            var field = FieldSchema(property.PropertyType, property, defs);
            var withMeta = new JsonObject();
            if (property.GetCustomAttribute<DescriptionAttribute>() is { } d) withMeta["description"] = d.Description;
            if (property.GetCustomAttribute<RequiredAttribute>() is not null) required.Add(key);
            else if (SpecJson.Value(property.GetValue(defaults)) is { } defaultValue) withMeta["default"] = defaultValue;
            foreach (var (k, v) in field) withMeta[k] = v?.DeepClone();
            properties[key] = withMeta;
        }
        schema["properties"] = properties;
        if (required.Count > 0) schema["required"] = required;
        schema["additionalProperties"] = false;
        return schema;
    }

    static JsonObject FieldSchema(Type type, PropertyInfo? property, JsonObject defs)
    {
        var underlying = Nullable.GetUnderlyingType(type);
        var nullable = underlying is not null
                       || (property is not null && !type.IsValueType && new NullabilityInfoContext().Create(property).WriteState == NullabilityState.Nullable);
        type = underlying ?? type;

        JsonObject core;
        var acceptsVariable = true;
        if (type == typeof(string))
        {
            core = new JsonObject { ["type"] = "string" };
            if (property?.GetCustomAttribute<MinLengthAttribute>() is { } min) core["minLength"] = min.Length;
            if (property?.GetCustomAttribute<RegularExpressionAttribute>() is { } regex) core["pattern"] = regex.Pattern;
            acceptsVariable = false; // a string already accepts a reference
        }
        else if (type == typeof(bool)) core = new JsonObject { ["type"] = "boolean" };
        else if (type == typeof(int) || type == typeof(long) || type == typeof(double))
        {
            core = new JsonObject { ["type"] = type == typeof(double) ? "number" : "integer" };
            if (property?.GetCustomAttribute<RangeAttribute>() is { } range) AddRange(core, range);
            if (property?.GetCustomAttribute<AllowedValuesAttribute>() is { } allowed)
                core["enum"] = new JsonArray(allowed.Values.Select(v => (JsonNode?)JsonValue.Create(Convert.ToInt64(v, CultureInfo.InvariantCulture))).ToArray());
        }
        else if (type.IsEnum)
            core = new JsonObject
            {
                // "true"/"false" members (gradient_checkpointing) are YAML booleans, so the schema says so.
                ["enum"] = new JsonArray(SpecNames.EnumMembers(type).Select(m => m.Name switch
                {
                    "true" => (JsonNode?)JsonValue.Create(true),
                    "false" => JsonValue.Create(false),
                    var name => JsonValue.Create(name),
                }).ToArray()),
            };
        else if (ParameterBinder.ListItemType(type) is { } item)
        {
            var items = FieldSchema(item, null, defs);
            core = new JsonObject { ["type"] = "array", ["items"] = items };
            if (property?.GetCustomAttribute<MinLengthAttribute>() is { } min) core["minItems"] = min.Length;
            if (property?.GetCustomAttribute<SingleValueAllowedAttribute>() is not null)
                core = new JsonObject { ["anyOf"] = new JsonArray(items.DeepClone(), core) };
            acceptsVariable = false;
        }
        else
        {
            RecordSchema(type, defs);
            core = new JsonObject { ["$ref"] = $"#/$defs/{type.Name}" };
            acceptsVariable = false;
        }

        var alternatives = new List<JsonObject> { core };
        if (acceptsVariable) alternatives.Add(new JsonObject { ["$ref"] = $"#/$defs/{VarReference}" });
        if (nullable) alternatives.Add(new JsonObject { ["type"] = "null" });
        return alternatives.Count == 1 ? core : new JsonObject { ["anyOf"] = new JsonArray(alternatives.ToArray<JsonNode?>()) };
    }

    static void AddRange(JsonObject schema, RangeAttribute range)
    {
        var min = Convert.ToDouble(range.Minimum, CultureInfo.InvariantCulture);
        var max = Convert.ToDouble(range.Maximum, CultureInfo.InvariantCulture);
        schema[range.MinimumIsExclusive ? "exclusiveMinimum" : "minimum"] = Number(min);
        if (range.Maximum is not (int.MaxValue or long.MaxValue or double.MaxValue))
            schema[range.MaximumIsExclusive ? "exclusiveMaximum" : "maximum"] = Number(max);
    }

    static JsonNode Number(double value) =>
        value == Math.Floor(value) && Math.Abs(value) < 1e15 ? JsonValue.Create((long)value) : JsonValue.Create(value);

    static JsonObject Sorted(JsonObject defs)
    {
        var sorted = new JsonObject();
        foreach (var (key, value) in defs.OrderBy(p => p.Key, StringComparer.Ordinal).ToList())
        {
            defs.Remove(key);
            sorted[key] = value;
        }
        return sorted;
    }
}

using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using RaftPipeline.Core.Engine;
using RaftPipeline.Core.Spec;
using YamlDotNet.Serialization;

namespace RaftPipeline.Core.Runs;

/// <summary>
/// <c>spec.resolved.yaml</c>: the spec as it ran, in the spec's own syntax: variables substituted, overrides
/// applied, every default written out, paths absolute. <c>raft run spec.resolved.yaml</c> builds the same keys
/// (the reproducibility test checks it), so a run can be repeated from its folder alone.
/// </summary>
public static class ResolvedSpecWriter
{
    public static string Write(PipelineSpec spec, IReadOnlyList<string> overrides)
    {
        var stages = new Dictionary<string, object?>();
        foreach (var stage in spec.Stages)
        {
            var inputs = new Dictionary<string, object?>();
            foreach (var (slot, values) in stage.Inputs)
            {
                var texts = values.Select(v => v switch
                {
                    StageInput.FromStage s => s.Stage,
                    StageInput.FromPath p => p.Path,
                    StageInput.FromHub h => h.Id.ToString(), // as written; the lock file records the commit it resolved to
                    _ => throw new NotSupportedException(v.GetType().Name),
                }).ToList();
                inputs[slot] = texts.Count == 1 ? texts[0] : texts;
            }
            stages[stage.Name] = new Dictionary<string, object?>
            {
                ["kind"] = stage.Kind,
                ["inputs"] = inputs,
                ["params"] = Plain(CanonicalParameters.WithSettings(stage.Parameters)),
            };
        }
        var document = new Dictionary<string, object?>
        {
            ["name"] = spec.Name,
            ["seed"] = spec.Seed,
            ["device"] = SpecNames.Of(spec.Device),
            ["cache"] = spec.CacheDirectory,
            ["stages"] = stages,
        };
        var header =
            $"# Resolved by raft {ToolInfo.Version} from {spec.SourceFile}\n" +
            (overrides.Count > 0 ? $"# with --set {string.Join(" --set ", overrides)}\n" : "") +
            "# Variables substituted, overrides applied, defaults filled, paths absolute.\n";
        var serializer = new SerializerBuilder()
            .WithQuotingNecessaryStrings()
            .DisableAliases()
            .Build();
        return header + serializer.Serialize(document);
    }

    /// <summary>JSON → plain objects YamlDotNet writes: numbers keep their JSON text (round-trip shortest form).</summary>
    static object? Plain(JsonNode? node) => node switch
    {
        null => null,
        JsonObject o => o.ToDictionary(p => p.Key, p => Plain(p.Value)),
        JsonArray a => a.Select(Plain).ToList(),
        JsonValue v => v.GetValueKind() switch
        {
            JsonValueKind.String => v.GetValue<string>(),
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            JsonValueKind.Number => new YamlNumber(CanonicalJson.CanonicalNumber(v.ToJsonString())),
            _ => null,
        },
        _ => throw new NotSupportedException(node.GetType().Name),
    };

    /// <summary>A number written as its canonical text, unquoted.</summary>
    sealed record YamlNumber(string Text) : IYamlConvertible
    {
        public void Read(YamlDotNet.Core.IParser parser, Type expectedType, ObjectDeserializer nestedObjectDeserializer) =>
            throw new NotSupportedException();

        public void Write(YamlDotNet.Core.IEmitter emitter, ObjectSerializer nestedObjectSerializer) =>
            emitter.Emit(new YamlDotNet.Core.Events.Scalar(null, null, Text, YamlDotNet.Core.ScalarStyle.Plain, true, false));
    }

}

using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace RaftPipeline.Core.Spec.Internal;

/// <summary>
/// Applies <c>--set KEY=VALUE</c> overrides to the parsed document before binding, so they are typed and
/// validated exactly like the file. KEY is <c>seed</c>, <c>device</c>, <c>cache</c>, <c>name</c>,
/// <c>vars.NAME</c>, or <c>STAGE.PARAM[.SUBKEY...]</c> (a key path inside that stage's <c>params</c>).
/// VALUE is parsed as YAML (a scalar, or a flow list/mapping such as <c>[q_proj,v_proj]</c>).
/// Nodes an override creates are registered so that errors in them name <c>--set KEY</c>.
/// </summary>
sealed class OverrideApplier(Diagnostics diagnostics)
{
    static readonly string[] TopLevelScalars = ["name", "seed", "device", "cache"];

    public void Apply(YamlMappingNode root, string assignment)
    {
        var equals = assignment.IndexOf('=');
        var key = equals < 0 ? assignment : assignment[..equals];
        var location = SourceLocation.ForOverride(key);
        diagnostics.RegisterOverrideOrder(location);
        if (equals <= 0)
        {
            diagnostics.Add(location, "", $"expected KEY=VALUE (e.g. train.learning_rate=2e-4), got '{assignment}'");
            return;
        }
        var segments = key.Split('.');
        if (segments.Any(s => s.Length == 0))
        {
            diagnostics.Add(location, key, "expected a dotted key such as train.learning_rate, with no empty part");
            return;
        }
        if (ParseValue(assignment[(equals + 1)..], key, location) is not { } value) return;
        diagnostics.RegisterOverride(value, location);

        if (segments.Length == 1 && TopLevelScalars.Contains(segments[0]))
        {
            Set(root, segments[0], value, location);
            return;
        }
        if (segments[0] == "vars")
        {
            if (segments.Length != 2)
            {
                diagnostics.Add(location, key, "expected vars.NAME");
                return;
            }
            Set(Child(root, "vars", location), segments[1], value, location);
            return;
        }

        var stages = Get(root, "stages") as YamlMappingNode;
        var stageNames = stages?.Children.Keys.OfType<YamlScalarNode>().Select(k => k.Value ?? "").ToList() ?? [];
        if (stages is null || Get(stages, segments[0]) is not YamlMappingNode stage)
        {
            var candidates = stageNames.Concat(TopLevelScalars).Append("vars");
            diagnostics.Add(location, key,
                $"unknown stage '{segments[0]}'{DidYouMean.Hint(segments[0], candidates, "expected STAGE.PARAM, seed, device, cache, name or vars.NAME")}");
            return;
        }
        if (segments.Length == 1)
        {
            diagnostics.Add(location, key, "expected STAGE.PARAM, a key inside the stage's params");
            return;
        }
        var target = Child(stage, "params", location);
        var path = $"stages.{segments[0]}.params";
        foreach (var segment in segments[1..^1])
        {
            path = KeyPath.Child(path, segment);
            if (Get(target, segment) is { } existing and not YamlMappingNode && !YamlScalars.IsNull(existing))
            {
                diagnostics.Add(location, path, $"cannot set a key inside it: expected a mapping, but the spec has {YamlScalars.Describe(existing)}");
                return;
            }
            target = Child(target, segment, location);
        }
        Set(target, segments[^1], value, location);
    }

    YamlNode? ParseValue(string text, string key, SourceLocation location)
    {
        if (text.Length == 0) return new YamlScalarNode("") { Style = ScalarStyle.Plain };
        try
        {
            var stream = new YamlStream();
            stream.Load(new StringReader(text));
            if (stream.Documents.Count == 1) return stream.Documents[0].RootNode;
            diagnostics.Add(location, key, $"expected one YAML value, got '{text}'");
        }
        catch (YamlException e)
        {
            diagnostics.Add(location, key, $"the value '{text}' is not valid YAML: {YamlText.Message(e)}");
        }
        return null;
    }

    static YamlNode? Get(YamlMappingNode mapping, string key) =>
        mapping.Children.TryGetValue(new YamlScalarNode(key), out var value) ? value : null;

    /// <summary>The mapping under <paramref name="key"/>, created (and registered as the override's) when absent or null.</summary>
    YamlMappingNode Child(YamlMappingNode parent, string key, SourceLocation location)
    {
        if (Get(parent, key) is YamlMappingNode existing) return existing;
        var created = new YamlMappingNode();
        diagnostics.RegisterOverride(created, location);
        Set(parent, key, created, location);
        return created;
    }

    void Set(YamlMappingNode mapping, string key, YamlNode value, SourceLocation location)
    {
        var keyNode = new YamlScalarNode(key);
        if (mapping.Children.ContainsKey(keyNode))
        {
            mapping.Children[keyNode] = value; // keeps the file's key node; the value is the override's
            return;
        }
        diagnostics.RegisterOverride(keyNode, location);
        mapping.Children.Add(keyNode, value);
    }
}

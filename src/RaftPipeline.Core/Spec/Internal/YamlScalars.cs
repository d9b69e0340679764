using System.Globalization;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace RaftPipeline.Core.Spec.Internal;

/// <summary>
/// Typing of YAML scalars by the YAML 1.2 core schema, applied only to plain (unquoted) scalars: a quoted
/// "2e-4" is a string, as a YAML-aware editor shows it.
/// </summary>
static partial class YamlScalars
{
    [GeneratedRegex(@"^[-+]?[0-9]+$")]
    private static partial Regex IntegerPattern();

    [GeneratedRegex(@"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")]
    private static partial Regex FloatPattern();

    public static bool IsPlain(YamlScalarNode node) => node.Style is ScalarStyle.Plain or ScalarStyle.Any;

    public static bool IsNull(YamlNode node) =>
        node is YamlScalarNode s && IsPlain(s) && s.Value is null or "" or "~" or "null" or "Null" or "NULL";

    public static bool TryBool(YamlScalarNode node, out bool value)
    {
        value = false;
        if (!IsPlain(node)) return false;
        switch (node.Value)
        {
            case "true" or "True" or "TRUE": value = true; return true;
            case "false" or "False" or "FALSE": return true;
            default: return false;
        }
    }

    public static bool TryInteger(YamlScalarNode node, out long value, out bool overflow)
    {
        value = 0;
        overflow = false;
        if (!IsPlain(node) || node.Value is not { } text || !IntegerPattern().IsMatch(text)) return false;
        if (long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value)) return true;
        overflow = true;
        return false;
    }

    public static bool TryNumber(YamlScalarNode node, out double value)
    {
        value = 0;
        if (!IsPlain(node) || node.Value is not { } text || !FloatPattern().IsMatch(text)) return false;
        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value) && double.IsFinite(value);
    }

    /// <summary>How a node is described in "expected X, got Y" messages.</summary>
    public static string Describe(YamlNode node) => node switch
    {
        _ when IsNull(node) => "nothing (null)",
        YamlScalarNode s when !IsPlain(s) => $"the quoted string '{s.Value}'",
        YamlScalarNode s => $"'{s.Value}'",
        YamlSequenceNode q => $"a list of {q.Children.Count}",
        YamlMappingNode => "a mapping",
        _ => "an alias",
    };
}

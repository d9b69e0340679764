using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace RaftPipeline.Core.Spec.Internal;

/// <summary>
/// Replaces <c>${vars.NAME}</c> in every scalar value of the spec (not in keys, not inside <c>vars</c>).
/// A scalar that is exactly one reference takes the variable's value and type (so <c>lr: ${vars.lr}</c> is a
/// number when the variable is); inside longer text the reference is replaced as text. <c>$${</c> writes a
/// literal <c>${</c>.
/// </summary>
sealed partial class VariableSubstitution(Diagnostics diagnostics, IReadOnlyDictionary<string, YamlScalarNode> vars)
{
    [GeneratedRegex(@"\$\$\{|\$\{([^}]*)\}")]
    private static partial Regex ReferencePattern();

    [GeneratedRegex(@"^\$\{vars\.([^}]*)\}$")]
    private static partial Regex WholeReferencePattern();

    /// <summary>Substitutes in place under <paramref name="node"/>, whose key path is <paramref name="key"/>.</summary>
    public void Apply(YamlNode node, string key)
    {
        switch (node)
        {
            case YamlScalarNode scalar:
                Substitute(scalar, key);
                break;
            case YamlSequenceNode sequence:
                for (var i = 0; i < sequence.Children.Count; i++) Apply(sequence.Children[i], KeyPath.Item(key, i));
                break;
            case YamlMappingNode mapping:
                foreach (var (k, v) in mapping.Children) Apply(v, KeyPath.Child(key, (k as YamlScalarNode)?.Value ?? "?"));
                break;
        }
    }

    void Substitute(YamlScalarNode scalar, string key)
    {
        if (scalar.Value is not { } text || !text.Contains('$')) return;
        if (WholeReferencePattern().Match(text) is { Success: true } whole && vars.TryGetValue(whole.Groups[1].Value, out var variable))
        {
            scalar.Value = variable.Value;
            scalar.Style = variable.Style;
            return;
        }
        var failed = false;
        var result = ReferencePattern().Replace(text, m =>
        {
            if (m.Value == "$${") return "${";
            var reference = m.Groups[1].Value;
            if (!reference.StartsWith("vars.", StringComparison.Ordinal))
            {
                failed = true;
                diagnostics.Add(scalar, key, $"unknown substitution '{m.Value}'; expected ${{vars.NAME}}");
                return m.Value;
            }
            var name = reference["vars.".Length..];
            if (vars.TryGetValue(name, out var value)) return value.Value ?? "";
            failed = true;
            var known = vars.Count == 0 ? " (this spec defines no vars)" : DidYouMean.Suffix(name, vars.Keys);
            diagnostics.Add(scalar, key, $"unknown variable '{name}' in '{m.Value}'{known}");
            return m.Value;
        });
        if (failed) return;
        scalar.Value = result;
        // Text around a reference makes a string, whatever the variable's type.
        if (scalar.Style is ScalarStyle.Plain or ScalarStyle.Any) scalar.Style = ScalarStyle.DoubleQuoted;
    }
}

using System.Text.RegularExpressions;

namespace RaftPipeline.Core.Spec.Internal;

/// <summary>
/// Lets <c>{ model: ${vars.model} }</c> parse. In YAML's flow context '{' and '}' end a plain scalar, so the
/// text above is a syntax error for any YAML parser. Before parsing, each <c>${NAME}</c> has its braces swapped
/// for private-use characters of the same length (columns in error messages stay right); scalars get them
/// back before substitution.
/// </summary>
static partial class ReferenceShield
{
    const char Open1 = '\uE000', Open2 = '\uE001', Close = '\uE002';

    [GeneratedRegex(@"\$\{([A-Za-z0-9_.-]*)\}")]
    private static partial Regex Reference();

    public static string Protect(string yaml) =>
        Reference().Replace(yaml, m => $"{Open1}{Open2}{m.Groups[1].Value}{Close}");

    public static string? Restore(string? text) =>
        text is null || text.IndexOf(Open1) < 0 ? text : text.Replace($"{Open1}{Open2}", "${").Replace(Close, '}');
}

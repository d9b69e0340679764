using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace RaftPipeline.Core.Spec.Internal;

/// <summary>
/// A streaming pass over the YAML events before the spec is loaded into nodes, for what the loader does not bound or
/// locate itself:
/// <list type="bullet">
/// <item>alias expansion: nested aliases ("billion laughs") make a 600-byte file stand for billions of nodes, which
/// every later walk would visit. The expanded size is counted as the events stream by (an alias adds its anchor's
/// size); past <see cref="MaxExpandedNodes"/> the spec is refused at the alias that crosses the line.</item>
/// <item>an alias inside the node its anchor names (a cycle, which the loader builds and every walk loops on).</item>
/// <item>nesting deeper than <see cref="MaxDepth"/> (no pipeline nests past a handful of levels; the loader and the
/// binder recurse).</item>
/// <item>a scanner failure that is not a <see cref="YamlException"/> (YamlDotNet throws InvalidOperationException on
/// some unclosed flow collections): located at the unclosed '{' or '[' when there is one, else where parsing stopped.</item>
/// </list>
/// </summary>
static class YamlPrecheck
{
    public const int MaxExpandedNodes = 100_000;
    public const int MaxDepth = 100;

    /// <summary>The first problem found, with its 1-based line and column; null when the text may be loaded.</summary>
    public static (int Line, int Column, string Message)? Check(string yaml)
    {
        var parser = new Parser(new StringReader(yaml));
        var anchors = new Dictionary<string, long>(StringComparer.Ordinal);
        var open = new Stack<(string? Anchor, long StartCount)>();
        long expanded = 0;
        Mark last = Mark.Empty;
        try
        {
            while (parser.MoveNext())
            {
                var e = parser.Current!;
                last = e.End;
                switch (e)
                {
                    case Scalar scalar:
                        expanded++;
                        if (!scalar.Anchor.IsEmpty) anchors[scalar.Anchor.Value] = 1;
                        break;
                    case MappingStart or SequenceStart:
                        expanded++;
                        var anchor = ((NodeEvent)e).Anchor;
                        open.Push((anchor.IsEmpty ? null : anchor.Value, expanded - 1));
                        if (open.Count > MaxDepth)
                            return At(e.Start, $"nested more than {MaxDepth} levels deep; a pipeline spec needs a handful");
                        break;
                    case MappingEnd or SequenceEnd:
                        var (name, start) = open.Pop();
                        if (name is not null) anchors[name] = expanded - start;
                        break;
                    case AnchorAlias alias when open.Any(o => o.Anchor == alias.Value.Value):
                        // The anchor is still open: the alias is inside the node it names, a cycle every walk would loop on.
                        return At(e.Start, $"the alias *{alias.Value.Value} is inside the node &{alias.Value.Value} it refers to (a cycle); expected an alias of a finished node");
                    case AnchorAlias alias:
                        // An unknown alias is the loader's error to report (it locates it).
                        expanded += anchors.TryGetValue(alias.Value.Value, out var size) ? size : 1;
                        break;
                }
                if (expanded > MaxExpandedNodes)
                    return At(e.Start, e is AnchorAlias a
                        ? $"the alias *{a.Value.Value} stands for {anchors[a.Value.Value]} nodes, which takes the spec past {MaxExpandedNodes} nodes; aliases of aliases multiply (expected a spec of a reasonable size)"
                        : $"the spec has more than {MaxExpandedNodes} nodes (expected a spec of a reasonable size)");
            }
        }
        catch (YamlException e) when (e.Start.Index >= yaml.TrimEnd().Length && UnclosedFlow(yaml) is { } opener)
        {
            // The parser only notices an unclosed '[' or '{' at the end of the text; the bracket is where to look.
            return Unclosed(opener, "the end of the file");
        }
        catch (YamlException)
        {
            return null; // the loader reports it, located
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException or IndexOutOfRangeException or NullReferenceException)
        {
            // YamlDotNet's scanner fails this way on some unclosed flow collections.
            if (UnclosedFlow(yaml) is { } opener)
                return Unclosed(opener, "the next key");
            return At(last, "YAML syntax: cannot parse the text after this point");
        }
        return null;
    }

    static (int, int, string) Unclosed((int Line, int Column, char Bracket) opener, string before) =>
        (opener.Line, opener.Column,
            $"YAML syntax: this '{opener.Bracket}' is never closed; expected ',' or '{(opener.Bracket == '{' ? '}' : ']')}' before {before}");

    static (int, int, string) At(Mark mark, string message) => ((int)Math.Max(1, mark.Line), (int)Math.Max(1, mark.Column), message);

    /// <summary>
    /// The outermost '{' or '[' left open at the end of the text (quotes and comments skipped), with its 1-based
    /// position; null when every one is closed.
    /// </summary>
    public static (int Line, int Column, char Bracket)? UnclosedFlow(string yaml)
    {
        var open = new List<(int, int, char)>();
        int line = 1, column = 0;
        char? quote = null;
        var comment = false;
        for (var i = 0; i < yaml.Length; i++)
        {
            var c = yaml[i];
            column++;
            if (c == '\n')
            {
                line++;
                column = 0;
                comment = false;
                continue;
            }
            if (comment) continue;
            if (quote is { } q)
            {
                if (c == '\\' && q == '"') { i++; column++; }
                else if (c == q) quote = null;
                continue;
            }
            switch (c)
            {
                case '#' when i == 0 || char.IsWhiteSpace(yaml[i - 1]):
                    comment = true;
                    break;
                case '"' or '\'' when i == 0 || yaml[i - 1] is ' ' or '\t' or '{' or '[' or ',' or ':' or '\n':
                    quote = c;
                    break;
                case '{' or '[':
                    open.Add((line, column, c));
                    break;
                case '}' or ']' when open.Count > 0:
                    open.RemoveAt(open.Count - 1);
                    break;
            }
        }
        return open.Count > 0 ? open[0] : null;
    }

    /// <summary>The first tab used for indentation at or after <paramref name="fromLine"/>, 1-based; null when none.</summary>
    public static (int Line, int Column)? IndentationTab(string yaml, int fromLine)
    {
        var lines = yaml.Split('\n');
        for (var i = Math.Max(0, fromLine - 1); i < lines.Length; i++)
        {
            var text = lines[i];
            for (var j = 0; j < text.Length && text[j] is ' ' or '\t' or '-' ; j++)
                if (text[j] == '\t') return (i + 1, j + 1);
        }
        return null;
    }

    /// <summary>
    /// The 1-based line whose inclusion first makes <paramref name="loads"/> fail: binary search over prefixes of whole
    /// lines (the text as a whole fails). Only on the error path.
    /// </summary>
    public static int FirstFailingLine(string yaml, Func<string, bool> loads)
    {
        var lines = yaml.Split('\n');
        int good = 0, bad = lines.Length; // a prefix of `good` lines loads; one of `bad` lines does not
        while (bad - good > 1)
        {
            var middle = (good + bad) / 2;
            if (loads(string.Join('\n', lines.Take(middle)) + "\n")) good = middle;
            else bad = middle;
        }
        return bad;
    }
}

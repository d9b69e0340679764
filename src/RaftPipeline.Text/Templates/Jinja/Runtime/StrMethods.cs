using System.Text;

namespace RaftPipeline.Text.Templates.Jinja.Runtime;

/// <summary>Python str methods bound to a receiver; the ones not implemented fail loudly when called.</summary>
public static class StrMethods
{
    public static BuiltinFunction Bind(string s, string name) => new($"str.{name}", (args, kwargs) => Call(s, name, args, kwargs));

    static (long? Start, long? End) Range(string fn, object?[] a, int at) =>
        (ArgBinder.OptionalInt(fn, "start", a[at]), ArgBinder.OptionalInt(fn, "end", a[at + 1]));

    /// <summary>Applies [start:end] in code points and returns the piece plus its code point offset.</summary>
    static (string Piece, long Offset) Window(string s, long? start, long? end)
    {
        if (start is null && end is null) return (s, 0);
        var len = PyStr.Length(s);
        var a = start ?? 0;
        if (a < 0) a = Math.Max(0, a + len);
        return (PyStr.Slice(s, start, end, null), Math.Min(a, len));
    }

    static long CodePointIndex(string s, int charIndex) => PyStr.Length(s[..charIndex]);

    static object? Call(string s, string name, IReadOnlyList<object?> args, IReadOnlyList<KeyValuePair<string, object?>> kwargs)
    {
        object?[] a;
        switch (name)
        {
            case "strip":
            case "lstrip":
            case "rstrip":
                {
                    BuiltinFunction.NoKwargs(name, kwargs);
                    a = ArgBinder.Bind(name, args, kwargs, ("chars", null));
                    var chars = a[0] is null ? null : ArgBinder.Text(name, "chars", a[0]);
                    return PyStr.Strip(s, chars, left: name != "rstrip", right: name != "lstrip");
                }
            case "split":
            case "rsplit":
                {
                    a = ArgBinder.Bind(name, args, kwargs, ("sep", null), ("maxsplit", -1L));
                    var sep = a[0] is null ? null : ArgBinder.Text(name, "sep", a[0]);
                    var max = ArgBinder.OptionalInt(name, "maxsplit", a[1]) ?? -1;
                    return name == "split" ? PyStr.Split(s, sep, max) : PyStr.RSplit(s, sep, max);
                }
            case "splitlines":
                a = ArgBinder.Bind(name, args, kwargs, ("keepends", false));
                return PyStr.SplitLines(s, PyOps.Truthy(a[0]));
            case "startswith":
            case "endswith":
                {
                    BuiltinFunction.NoKwargs(name, kwargs);
                    a = ArgBinder.Bind(name, args, kwargs, ("prefix", ArgBinder.Required), ("start", null), ("end", null));
                    var (start, end) = Range(name, a, 1);
                    var (piece, _) = Window(s, start, end);
                    var candidates = a[0] is PyTuple t ? t.Items : [a[0]];
                    foreach (var c in candidates)
                    {
                        var text = PyOps.AsText(c) ?? throw PyException.Type(
                            $"{name} first arg must be str or a tuple of str, not {PyOps.TypeName(c)}");
                        if (name == "startswith" ? piece.StartsWith(text, StringComparison.Ordinal) : piece.EndsWith(text, StringComparison.Ordinal))
                            return true;
                    }
                    return false;
                }
            case "find":
            case "rfind":
            case "index":
            case "rindex":
            case "count":
                {
                    BuiltinFunction.NoKwargs(name, kwargs);
                    a = ArgBinder.Bind(name, args, kwargs, ("sub", ArgBinder.Required), ("start", null), ("end", null));
                    var sub = ArgBinder.Text(name, "sub", a[0]);
                    var (start, end) = Range(name, a, 1);
                    var (piece, offset) = Window(s, start, end);
                    if (name == "count")
                    {
                        if (sub.Length == 0) return PyStr.Length(piece) + 1;
                        long n = 0;
                        for (var k = piece.IndexOf(sub, StringComparison.Ordinal); k >= 0; k = piece.IndexOf(sub, k + sub.Length, StringComparison.Ordinal)) n++;
                        return n;
                    }
                    var at = name.StartsWith('r') ? piece.LastIndexOf(sub, StringComparison.Ordinal) : piece.IndexOf(sub, StringComparison.Ordinal);
                    if (sub.Length == 0) at = name.StartsWith('r') ? piece.Length : 0;
                    if (at < 0) return name.EndsWith("find") ? -1L : throw PyException.Value("substring not found");
                    return offset + CodePointIndex(piece, at);
                }
            case "replace":
                {
                    a = ArgBinder.Bind(name, args, kwargs, ("old", ArgBinder.Required), ("new", ArgBinder.Required), ("count", -1L));
                    return PyStr.Replace(s, ArgBinder.Text(name, "old", a[0]), ArgBinder.Text(name, "new", a[1]),
                        ArgBinder.OptionalInt(name, "count", a[2]) ?? -1);
                }
            case "join":
                {
                    BuiltinFunction.NoKwargs(name, kwargs);
                    BuiltinFunction.Arity(name, args, 1, 1);
                    var sb = new StringBuilder();
                    var i = 0;
                    foreach (var item in PyOps.Iterate(args[0]))
                    {
                        var text = PyOps.AsText(item) ?? throw PyException.Type($"sequence item {i}: expected str instance, {PyOps.TypeName(item)} found");
                        if (i++ > 0) sb.Append(s);
                        sb.Append(text);
                    }
                    return sb.ToString();
                }
            case "format":
                return PyStr.Format(s, args, kwargs);
            case "removeprefix":
            case "removesuffix":
                {
                    BuiltinFunction.Arity(name, args, 1, 1);
                    var fix = ArgBinder.Text(name, "prefix", args[0]);
                    if (name == "removeprefix") return s.StartsWith(fix, StringComparison.Ordinal) ? s[fix.Length..] : s;
                    return fix.Length > 0 && s.EndsWith(fix, StringComparison.Ordinal) ? s[..^fix.Length] : s;
                }
            case "partition":
            case "rpartition":
                {
                    BuiltinFunction.Arity(name, args, 1, 1);
                    var sep = ArgBinder.Text(name, "sep", args[0]);
                    if (sep.Length == 0) throw PyException.Value("empty separator");
                    var k = name == "partition" ? s.IndexOf(sep, StringComparison.Ordinal) : s.LastIndexOf(sep, StringComparison.Ordinal);
                    if (k < 0) return name == "partition" ? new PyTuple([s, "", ""]) : new PyTuple(["", "", s]);
                    return new PyTuple([s[..k], sep, s[(k + sep.Length)..]]);
                }
            case "center":
            case "ljust":
            case "rjust":
                {
                    a = ArgBinder.Bind(name, args, kwargs, ("width", ArgBinder.Required), ("fillchar", " "));
                    var width = (int)(ArgBinder.OptionalInt(name, "width", a[0]) ?? 0);
                    var fill = ArgBinder.Text(name, "fillchar", a[1]);
                    if (fill.Length != 1) throw PyException.Type("The fill character must be exactly one character long");
                    var len = (int)PyStr.Length(s);
                    if (width <= len) return s;
                    var pad = width - len;
                    // CPython's center puts the odd extra space on the left when the string length is odd... as pad/2 + (pad & width & 1).
                    var left = name switch { "ljust" => 0, "rjust" => pad, _ => pad / 2 + (pad & width & 1) };
                    return new string(fill[0], left) + s + new string(fill[0], pad - left);
                }
            case "zfill":
                {
                    BuiltinFunction.Arity(name, args, 1, 1);
                    var width = (int)(ArgBinder.OptionalInt(name, "width", args[0]) ?? 0);
                    var len = (int)PyStr.Length(s);
                    if (width <= len) return s;
                    var sign = s.Length > 0 && (s[0] == '-' || s[0] == '+') ? s[..1] : "";
                    return sign + new string('0', width - len) + s[sign.Length..];
                }
        }
        BuiltinFunction.NoKwargs(name, kwargs);
        BuiltinFunction.Arity(name, args, 0, 0);
        return name switch
        {
            "upper" => s.ToUpperInvariant(),
            "lower" => s.ToLowerInvariant(),
            "title" => PyStr.Title(s),
            "capitalize" => PyStr.Capitalize(s),
            "swapcase" => string.Concat(s.Select(c => char.IsUpper(c) ? char.ToLowerInvariant(c) : char.IsLower(c) ? char.ToUpperInvariant(c) : c)),
            "isdigit" or "isdecimal" => s.Length > 0 && s.All(char.IsDigit),
            "isalpha" => s.Length > 0 && s.All(char.IsLetter),
            "isalnum" => s.Length > 0 && s.All(char.IsLetterOrDigit),
            "isspace" => s.Length > 0 && s.All(PyStr.IsSpace),
            "islower" => PyStr.IsLower(s),
            "isupper" => PyStr.IsUpper(s),
            "isascii" => s.All(char.IsAscii),
            _ => throw PyException.Unsupported($"str.{name}()"),
        };
    }
}

using System.Globalization;
using System.Text;

namespace RaftPipeline.Text.Templates.Jinja.Runtime;

/// <summary>
/// Global functions a chat template can call: jinja2's range/dict/namespace, and transformers' raise_exception
/// and strftime_now.
/// </summary>
public static class Globals
{
    /// <summary>jinja2's sandbox refuses ranges longer than this (MAX_RANGE).</summary>
    const long MaxRange = 100_000;

    public static void AddTo(Scope scope, Func<DateTime> now)
    {
        scope.Set("range", new BuiltinFunction("range", Range));
        scope.Set("dict", new BuiltinFunction("dict", (args, kwargs) => MakeDict("dict", args, kwargs)));
        scope.Set("namespace", new BuiltinFunction("namespace", (args, kwargs) =>
        {
            var ns = new Namespace();
            foreach (var (k, v) in MakeDict("namespace", args, kwargs).Entries) ns.Attributes[k] = v;
            return ns;
        }));
        // transformers: raise_exception(message) raises jinja2.exceptions.TemplateError(message).
        scope.Set("raise_exception", new BuiltinFunction("raise_exception", (args, kwargs) =>
        {
            BuiltinFunction.NoKwargs("raise_exception", kwargs);
            BuiltinFunction.Arity("raise_exception", args, 1, 1);
            throw new PyException("TemplateError", PyFormat.Str(args[0]));
        }));
        scope.Set("strftime_now", new BuiltinFunction("strftime_now", (args, kwargs) =>
        {
            BuiltinFunction.NoKwargs("strftime_now", kwargs);
            BuiltinFunction.Arity("strftime_now", args, 1, 1);
            return StrFTime(ArgBinder.Text("strftime_now", "format", args[0]), now());
        }));
        foreach (var name in new[] { "lipsum", "cycler", "joiner" })
            scope.Set(name, new BuiltinFunction(name, (_, _) => throw PyException.Unsupported($"{name}()")));
    }

    static object? Range(IReadOnlyList<object?> args, IReadOnlyList<KeyValuePair<string, object?>> kwargs)
    {
        BuiltinFunction.NoKwargs("range", kwargs);
        BuiltinFunction.Arity("range", args, 1, 3);
        var n = args.Select(a => a is bool or long ? PyOps.ToLong(a)
            : throw PyException.Type($"'{PyOps.TypeName(a)}' object cannot be interpreted as an integer")).ToList();
        var (start, stop, step) = n.Count switch { 1 => (0L, n[0], 1L), 2 => (n[0], n[1], 1L), _ => (n[0], n[1], n[2]) };
        if (step == 0) throw PyException.Value("range() arg 3 must not be zero");
        var range = new PyRange(start, stop, step);
        if (range.Count > MaxRange) throw new PyException("OverflowError", $"Range too big. The sandbox blocks ranges larger than MAX_RANGE ({MaxRange}).");
        return range;
    }

    static PyDict MakeDict(string fn, IReadOnlyList<object?> args, IReadOnlyList<KeyValuePair<string, object?>> kwargs)
    {
        if (args.Count > 1) throw PyException.Type($"{fn} expected at most 1 argument, got {args.Count}");
        var d = new PyDict();
        if (args.Count == 1)
        {
            if (args[0] is PyDict src)
                foreach (var (k, v) in src.Entries) d[k] = v;
            else
                foreach (var pair in PyOps.Iterate(args[0]))
                {
                    var kv = PyOps.Iterate(pair).ToList();
                    if (kv.Count != 2) throw PyException.Value($"dictionary update sequence element has length {kv.Count}; 2 is required");
                    d[kv[0]] = kv[1];
                }
        }
        foreach (var (k, v) in kwargs) d[k] = v;
        return d;
    }

    /// <summary>C strftime for the directives chat templates use for dates (%d %m %Y %y %b %B %a %A %H %M %S %j %p %I %%).</summary>
    static string StrFTime(string format, DateTime t)
    {
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        for (var i = 0; i < format.Length; i++)
        {
            if (format[i] != '%' || i + 1 >= format.Length) { sb.Append(format[i]); continue; }
            var c = format[++i];
            sb.Append(c switch
            {
                'd' => t.Day.ToString("00", inv),
                'm' => t.Month.ToString("00", inv),
                'Y' => t.Year.ToString(inv),
                'y' => (t.Year % 100).ToString("00", inv),
                'b' => t.ToString("MMM", inv),
                'B' => t.ToString("MMMM", inv),
                'a' => t.ToString("ddd", inv),
                'A' => t.ToString("dddd", inv),
                'H' => t.Hour.ToString("00", inv),
                'I' => ((t.Hour + 11) % 12 + 1).ToString("00", inv),
                'M' => t.Minute.ToString("00", inv),
                'S' => t.Second.ToString("00", inv),
                'p' => t.Hour < 12 ? "AM" : "PM",
                'j' => t.DayOfYear.ToString("000", inv),
                '%' => "%",
                _ => throw PyException.Unsupported($"the strftime directive %{c}"),
            });
        }
        return sb.ToString();
    }
}

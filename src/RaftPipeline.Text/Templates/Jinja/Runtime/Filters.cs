using System.Text;
using System.Text.RegularExpressions;
using Kw = System.Collections.Generic.IReadOnlyList<System.Collections.Generic.KeyValuePair<string, object?>>;

namespace RaftPipeline.Text.Templates.Jinja.Runtime;

/// <summary>
/// jinja2 3.1's built-in filters (filters.py) as chat templates use them, with transformers' tojson
/// (json.dumps with ensure_ascii=False, keys in order). Autoescaping is off, as in transformers.
/// </summary>
public static class Filters
{
    delegate object? Filter(object? value, IReadOnlyList<object?> args, Kw kwargs);

    static readonly Dictionary<string, Filter> Table = new()
    {
        ["abs"] = Abs,
        ["attr"] = (v, a, k) => Attributes.GetAttr(v, ArgBinder.Text("attr", "name", ArgBinder.Bind("attr", a, k, ("name", ArgBinder.Required))[0])),
        ["capitalize"] = (v, a, k) => { NoArgs("capitalize", a, k); return PyStr.Capitalize(PyFormat.Str(v)); },
        ["count"] = (v, a, k) => { NoArgs("count", a, k); return PyOps.Length(v); },
        ["d"] = Default,
        ["default"] = Default,
        ["dictsort"] = DictSort,
        ["e"] = Escape,
        ["escape"] = Escape,
        ["first"] = First,
        ["float"] = Float,
        ["format"] = (v, a, k) => PyStr.PercentFormat(PyFormat.Str(v), k.Count > 0 ? ToDict(k) : new PyTuple(a)),
        ["indent"] = Indent,
        ["int"] = Int,
        ["items"] = Items,
        ["join"] = Join,
        ["last"] = Last,
        ["length"] = (v, a, k) => { NoArgs("length", a, k); return PyOps.Length(v); },
        ["list"] = (v, a, k) => { NoArgs("list", a, k); return PyOps.Iterate(v).ToList(); },
        ["lower"] = (v, a, k) => { NoArgs("lower", a, k); return PyFormat.Str(v).ToLowerInvariant(); },
        ["map"] = Map,
        ["max"] = (v, a, k) => MinMax("max", v, a, k),
        ["min"] = (v, a, k) => MinMax("min", v, a, k),
        ["reject"] = (v, a, k) => SelectOrReject(v, a, k, attribute: false, keep: false),
        ["rejectattr"] = (v, a, k) => SelectOrReject(v, a, k, attribute: true, keep: false),
        ["replace"] = Replace,
        ["reverse"] = Reverse,
        ["round"] = Round,
        ["safe"] = (v, a, k) => { NoArgs("safe", a, k); return v as Markup ?? new Markup(PyFormat.Str(v)); },
        ["select"] = (v, a, k) => SelectOrReject(v, a, k, attribute: false, keep: true),
        ["selectattr"] = (v, a, k) => SelectOrReject(v, a, k, attribute: true, keep: true),
        ["sort"] = Sort,
        ["string"] = (v, a, k) => { NoArgs("string", a, k); return v is Markup ? v : PyFormat.Str(v); },
        ["sum"] = Sum,
        ["title"] = (v, a, k) => { NoArgs("title", a, k); return JinjaTitle(PyFormat.Str(v)); },
        ["tojson"] = ToJson,
        ["trim"] = Trim,
        ["unique"] = Unique,
        ["upper"] = (v, a, k) => { NoArgs("upper", a, k); return PyFormat.Str(v).ToUpperInvariant(); },
        ["wordcount"] = (v, a, k) => { NoArgs("wordcount", a, k); return (long)Regex.Matches(PyFormat.Str(v), @"\w+").Count; },
    };

    /// <summary>jinja2 filters this interpreter leaves out: using one is a parse error that says so.</summary>
    public static readonly HashSet<string> UnsupportedBuiltins =
    [
        "batch", "center", "filesizeformat", "forceescape", "groupby", "pprint", "random", "slice", "striptags",
        "truncate", "urlencode", "urlize", "wordwrap", "xmlattr",
    ];

    public static bool IsKnown(string name) => Table.ContainsKey(name);

    public static object? Apply(string name, object? value, IReadOnlyList<object?> args, Kw kwargs) =>
        Table.TryGetValue(name, out var f) ? f(value, args, kwargs) : throw PyException.Unsupported($"the '{name}' filter");

    static void NoArgs(string name, IReadOnlyList<object?> args, Kw kwargs)
    {
        if (args.Count > 0 || kwargs.Count > 0) throw PyException.Type($"{name}() takes no arguments besides the value");
    }

    static PyDict ToDict(Kw kwargs)
    {
        var d = new PyDict();
        foreach (var (k, v) in kwargs) d[k] = v;
        return d;
    }

    static object? Default(object? v, IReadOnlyList<object?> args, Kw kwargs)
    {
        var a = ArgBinder.Bind("default", args, kwargs, ("default_value", ""), ("boolean", false));
        return v is Undefined || (PyOps.Truthy(a[1]) && !PyOps.Truthy(v)) ? a[0] : v;
    }

    static object? Trim(object? v, IReadOnlyList<object?> args, Kw kwargs)
    {
        var a = ArgBinder.Bind("trim", args, kwargs, ("chars", null));
        return PyStr.Strip(PyFormat.Str(v), a[0] is null ? null : ArgBinder.Text("trim", "chars", a[0]), true, true);
    }

    static object? Replace(object? v, IReadOnlyList<object?> args, Kw kwargs)
    {
        var a = ArgBinder.Bind("replace", args, kwargs, ("old", ArgBinder.Required), ("new", ArgBinder.Required), ("count", null));
        return PyStr.Replace(PyFormat.Str(v), PyFormat.Str(a[0]), PyFormat.Str(a[1]), ArgBinder.OptionalInt("replace", "count", a[2]) ?? -1);
    }

    static readonly Regex WordBeginning = new(@"([-\s({\[<]+)", RegexOptions.CultureInvariant);

    /// <summary>jinja2's title filter (not str.title): a word starts after -, whitespace or an opening bracket.</summary>
    static string JinjaTitle(string s)
    {
        var sb = new StringBuilder();
        foreach (var item in WordBeginning.Split(s))
        {
            if (item.Length == 0) continue;
            sb.Append(char.ToUpperInvariant(item[0])).Append(item[1..].ToLowerInvariant());
        }
        return sb.ToString();
    }

    static object? Escape(object? v, IReadOnlyList<object?> args, Kw kwargs)
    {
        NoArgs("escape", args, kwargs);
        return v as Markup ?? new Markup(Markup.Escape(PyFormat.Str(v)));
    }

    static object? First(object? v, IReadOnlyList<object?> args, Kw kwargs)
    {
        NoArgs("first", args, kwargs);
        foreach (var item in PyOps.Iterate(v)) return item;
        return new Undefined("No first item, sequence was empty.");
    }

    static object? Last(object? v, IReadOnlyList<object?> args, Kw kwargs)
    {
        NoArgs("last", args, kwargs);
        var items = v switch
        {
            PyIterator it => throw PyException.Type($"'{it.TypeName}' object is not reversible"),
            _ => PyOps.Iterate(v).ToList(),
        };
        return items.Count > 0 ? items[^1] : new Undefined("No last item, sequence was empty.");
    }

    static object? Reverse(object? v, IReadOnlyList<object?> args, Kw kwargs)
    {
        NoArgs("reverse", args, kwargs);
        if (v is string or Markup) return string.Concat(PyStr.CodePoints(PyOps.AsText(v)!).Reverse());
        var items = PyOps.Iterate(v).ToList();
        items.Reverse();
        // reversed(list) is an iterator; a generator is first copied into a list, which jinja2 then reverses in place.
        return v is PyIterator ? items : new PyIterator(items, PyOps.TypeName(v) + "_reverseiterator");
    }

    static object? Items(object? v, IReadOnlyList<object?> args, Kw kwargs)
    {
        NoArgs("items", args, kwargs);
        return v switch
        {
            Undefined => new PyIterator([]),
            PyDict d => new PyIterator(d.Entries.Select(e => (object?)new PyTuple([e.Key, e.Value])).ToList()),
            _ => throw PyException.Type("Can only get item pairs from a mapping."),
        };
    }

    static object? Join(object? v, IReadOnlyList<object?> args, Kw kwargs)
    {
        var a = ArgBinder.Bind("join", args, kwargs, ("d", ""), ("attribute", null));
        IEnumerable<object?> items = PyOps.Iterate(v);
        if (a[1] is not null)
        {
            var getter = AttrGetter(a[1], null);
            items = items.Select(getter);
        }
        return string.Join(PyFormat.Str(a[0]), items.Select(PyFormat.Str));
    }

    static object? Int(object? v, IReadOnlyList<object?> args, Kw kwargs)
    {
        var a = ArgBinder.Bind("int", args, kwargs, ("default", 0L), ("base", 10L));
        var text = PyOps.AsText(v);
        if (text is not null)
        {
            if (a[1] is not 10L) throw PyException.Unsupported("the int filter with a base other than 10");
            if (PyMath.TryParseInt(text, out var l)) return l;
            if (PyMath.TryParseFloat(text, out var d)) return FloatToInt(d, a[0]);
            return a[0];
        }
        return v switch
        {
            bool or long => PyOps.ToLong(v),
            double d => FloatToInt(d, a[0]),
            _ => a[0],
        };
    }

    static object? FloatToInt(double d, object? dflt)
    {
        if (double.IsNaN(d)) return dflt;
        if (double.IsInfinity(d)) throw new PyException("OverflowError", "cannot convert float infinity to integer");
        var t = Math.Truncate(d);
        if (Math.Abs(t) >= 9.2e18) throw PyException.Unsupported("integers beyond 64 bits");
        return (long)t;
    }

    static object? Float(object? v, IReadOnlyList<object?> args, Kw kwargs)
    {
        var a = ArgBinder.Bind("float", args, kwargs, ("default", 0.0));
        var text = PyOps.AsText(v);
        if (text is not null) return PyMath.TryParseFloat(text, out var d) ? d : a[0];
        return PyOps.IsNumber(v) ? PyOps.ToDouble(v) : a[0];
    }

    static object? Abs(object? v, IReadOnlyList<object?> args, Kw kwargs)
    {
        NoArgs("abs", args, kwargs);
        return v switch
        {
            bool or long => Math.Abs(PyOps.ToLong(v)),
            double d => (object)Math.Abs(d),
            Undefined u => throw u.Fail(),
            _ => throw PyException.Type($"bad operand type for abs(): '{PyOps.TypeName(v)}'"),
        };
    }

    static object? Round(object? v, IReadOnlyList<object?> args, Kw kwargs)
    {
        var a = ArgBinder.Bind("round", args, kwargs, ("precision", 0L), ("method", "common"));
        var precision = ArgBinder.OptionalInt("round", "precision", a[0]) ?? 0;
        var method = PyFormat.Str(a[1]);
        if (method is not ("common" or "ceil" or "floor")) throw new PyException("FilterArgumentError", "method must be common, ceil or floor");
        if (v is Undefined u) throw u.Fail();
        if (!PyOps.IsNumber(v)) throw PyException.Type($"type {PyOps.TypeName(v)} doesn't define __round__ method");
        if (method == "common")
        {
            if (v is bool or long)
            {
                var l = PyOps.ToLong(v);
                if (precision >= 0) return l;
                var p = (long)Math.Pow(10, -precision);
                var q = PyOps.ToLong(PyOps.FloorDivide(l, p));
                var r = l - q * p;
                if (r * 2 > p || (r * 2 == p && q % 2 != 0)) q++;
                return q * p;
            }
            return PyMath.Round((double)v!, precision);
        }
        // jinja2: func(value * (10 ** precision)) / (10 ** precision), in Python float arithmetic.
        var scale = Math.Pow(10, precision);
        var scaled = PyOps.ToDouble(v) * scale;
        var rounded = method == "ceil" ? Math.Ceiling(scaled) : Math.Floor(scaled);
        return rounded / scale;
    }

    static object? ToJson(object? v, IReadOnlyList<object?> args, Kw kwargs)
    {
        var a = ArgBinder.Bind("tojson", args, kwargs, ("ensure_ascii", false), ("indent", null), ("separators", null), ("sort_keys", false));
        string? indent = a[1] switch
        {
            null => null,
            bool or long => new string(' ', (int)Math.Max(0, PyOps.ToLong(a[1]))),
            string s => s,
            _ => throw PyException.Type($"tojson: indent must be an int or a str, not {PyOps.TypeName(a[1])}"),
        };
        string? itemSep = null, keySep = null;
        if (a[2] is not null)
        {
            var parts = PyOps.Iterate(a[2]).Select(x => PyOps.AsText(x) ?? throw PyException.Type("tojson: separators must be strings")).ToList();
            if (parts.Count != 2) throw PyException.Value("tojson: separators must be an (item_separator, key_separator) pair");
            (itemSep, keySep) = (parts[0], parts[1]);
        }
        return PyJson.Dumps(v, indent, itemSep, keySep, PyOps.Truthy(a[3]), PyOps.Truthy(a[0]));
    }

    static object? Indent(object? v, IReadOnlyList<object?> args, Kw kwargs)
    {
        var a = ArgBinder.Bind("indent", args, kwargs, ("width", 4L), ("first", false), ("blank", false));
        var indention = a[0] is string w ? w : new string(' ', (int)Math.Max(0, ArgBinder.OptionalInt("indent", "width", a[0]) ?? 4));
        var s = PyFormat.Str(v) + "\n"; // jinja2's own trick so that splitlines keeps a trailing empty line
        string rv;
        var lines = PyStr.SplitLines(s, keepends: false).Cast<string>().ToList();
        if (PyOps.Truthy(a[2])) rv = string.Join("\n" + indention, lines);
        else
        {
            rv = lines[0];
            if (lines.Count > 1) rv += "\n" + string.Join("\n", lines.Skip(1).Select(line => line.Length > 0 ? indention + line : line));
        }
        if (PyOps.Truthy(a[1])) rv = indention + rv;
        return rv;
    }

    /// <summary>jinja2's make_attrgetter: "a.b.0" walks items (then attributes); Undefined steps take the default.</summary>
    static Func<object?, object?> AttrGetter(object? attribute, object? dflt, Func<object?, object?>? postprocess = null)
    {
        var parts = attribute switch
        {
            null => [],
            string s => s.Split('.').Select(p => p.Length > 0 && p.All(char.IsAsciiDigit) ? (object?)long.Parse(p) : p).ToArray(),
            long l => [l],
            _ => throw PyException.Type($"attribute must be a string or an integer, not {PyOps.TypeName(attribute)}"),
        };
        return item =>
        {
            foreach (var part in parts)
            {
                item = Attributes.GetItem(item, part);
                if (dflt is not null && item is Undefined) item = dflt;
            }
            return postprocess is null ? item : postprocess(item);
        };
    }

    static object? IgnoreCase(object? v) => v is string s ? s.ToLowerInvariant() : v;

    static object? Map(object? v, IReadOnlyList<object?> args, Kw kwargs)
    {
        Func<object?, object?> func;
        if (args.Count == 0 && kwargs.Any(k => k.Key == "attribute"))
        {
            var attribute = kwargs.First(k => k.Key == "attribute").Value;
            var dflt = kwargs.FirstOrDefault(k => k.Key == "default").Value;
            var extra = kwargs.FirstOrDefault(k => k.Key is not ("attribute" or "default"));
            if (extra.Key is not null) throw new PyException("FilterArgumentError", $"Unexpected keyword argument '{extra.Key}'");
            func = AttrGetter(attribute, dflt);
        }
        else
        {
            if (args.Count == 0) throw new PyException("FilterArgumentError", "map requires a filter argument");
            var name = PyFormat.Str(args[0]);
            if (!IsKnown(name)) throw new PyException("TemplateRuntimeError", $"No filter named '{name}'.");
            var rest = args.Skip(1).ToList();
            func = item => Apply(name, item, rest, kwargs);
        }
        var items = PyOps.Iterate(v);
        return new PyIterator(items.Select(func));
    }

    static object? SelectOrReject(object? v, IReadOnlyList<object?> args, Kw kwargs, bool attribute, bool keep)
    {
        Func<object?, object?> transform = x => x;
        var off = 0;
        if (attribute)
        {
            if (args.Count == 0) throw new PyException("FilterArgumentError", "Missing parameter for attribute name");
            transform = AttrGetter(args[0], null);
            off = 1;
        }
        Func<object?, bool> test;
        if (args.Count > off)
        {
            var name = PyFormat.Str(args[off]);
            if (!Tests.IsKnown(name)) throw new PyException("TemplateRuntimeError", $"No test named '{name}'.");
            var rest = args.Skip(off + 1).ToList();
            test = item => Tests.Apply(name, item, rest, kwargs);
        }
        else test = PyOps.Truthy;
        var items = PyOps.Iterate(v);
        return new PyIterator(items.Where(item => test(transform(item)) == keep));
    }

    static object? Unique(object? v, IReadOnlyList<object?> args, Kw kwargs)
    {
        var a = ArgBinder.Bind("unique", args, kwargs, ("case_sensitive", false), ("attribute", null));
        var getter = AttrGetter(a[1], null, PyOps.Truthy(a[0]) ? null : IgnoreCase);
        var items = PyOps.Iterate(v);
        IEnumerable<object?> Run()
        {
            var seen = new PyDict();
            foreach (var item in items)
            {
                var key = getter(item);
                if (seen.ContainsKey(key)) continue;
                seen[key] = true;
                yield return item;
            }
        }
        return new PyIterator(Run());
    }

    sealed class PyComparer : IComparer<object?>
    {
        public static readonly PyComparer Instance = new();
        public int Compare(object? x, object? y) => PyOps.Compare(x, y);
    }

    static object? Sort(object? v, IReadOnlyList<object?> args, Kw kwargs)
    {
        var a = ArgBinder.Bind("sort", args, kwargs, ("reverse", false), ("case_sensitive", false), ("attribute", null));
        Func<object?, object?> post = PyOps.Truthy(a[1]) ? x => x : IgnoreCase;
        Func<object?, object?> key;
        if (a[2] is string attrs && attrs.Contains(','))
        {
            var getters = attrs.Split(',').Select(p => AttrGetter(p, null, post)).ToList();
            key = item => getters.Select(g => g(item)).ToList();
        }
        else key = AttrGetter(a[2], null, post);
        var items = PyOps.Iterate(v).ToList();
        // Python's sorted() is stable in both directions, as LINQ's OrderBy/OrderByDescending are.
        return (PyOps.Truthy(a[0]) ? items.OrderByDescending(key, PyComparer.Instance) : items.OrderBy(key, PyComparer.Instance)).ToList();
    }

    static object? DictSort(object? v, IReadOnlyList<object?> args, Kw kwargs)
    {
        var a = ArgBinder.Bind("dictsort", args, kwargs, ("case_sensitive", false), ("by", "key"), ("reverse", false));
        if (v is not PyDict d) throw PyException.Type($"dictsort needs a mapping, not {PyOps.TypeName(v)}");
        var pos = PyFormat.Str(a[1]) switch
        {
            "key" => 0,
            "value" => 1,
            _ => throw new PyException("FilterArgumentError", "You can only sort by either \"key\" or \"value\""),
        };
        var caseSensitive = PyOps.Truthy(a[0]);
        var pairs = d.Entries.Select(e => (object?)new PyTuple([e.Key, e.Value])).ToList();
        Func<object?, object?> key = p => { var x = ((PyTuple)p!).Items[pos]; return caseSensitive ? x : IgnoreCase(x); };
        return (PyOps.Truthy(a[2]) ? pairs.OrderByDescending(key, PyComparer.Instance) : pairs.OrderBy(key, PyComparer.Instance)).ToList();
    }

    static object? Sum(object? v, IReadOnlyList<object?> args, Kw kwargs)
    {
        var a = ArgBinder.Bind("sum", args, kwargs, ("attribute", null), ("start", 0L));
        var getter = AttrGetter(a[0], null);
        var total = a[1];
        foreach (var item in PyOps.Iterate(v)) total = PyOps.Add(total, getter(item));
        return total;
    }

    static object? MinMax(string name, object? v, IReadOnlyList<object?> args, Kw kwargs)
    {
        var a = ArgBinder.Bind(name, args, kwargs, ("case_sensitive", false), ("attribute", null));
        var key = AttrGetter(a[1], null, PyOps.Truthy(a[0]) ? null : IgnoreCase);
        var items = PyOps.Iterate(v).ToList();
        if (items.Count == 0) return new Undefined("No aggregated item, sequence was empty.");
        var best = items[0];
        foreach (var item in items.Skip(1))
        {
            var c = PyOps.Compare(key(item), key(best));
            if (name == "min" ? c < 0 : c > 0) best = item;
        }
        return best;
    }
}

namespace RaftPipeline.Text.Templates.Jinja.Runtime;

/// <summary>
/// jinja2's <c>obj.attr</c> and <c>obj[key]</c> under ImmutableSandboxedEnvironment: attribute access tries the
/// Python attribute (a method) first, then the item; subscription tries the item first, then the attribute;
/// whatever is missing is Undefined. Methods that mutate a list or dict are refused (SecurityError).
/// </summary>
public static class Attributes
{
    static readonly HashSet<string> StrMethodNames =
    [
        "capitalize", "casefold", "center", "count", "encode", "endswith", "expandtabs", "find", "format", "format_map",
        "index", "isalnum", "isalpha", "isascii", "isdecimal", "isdigit", "isidentifier", "islower", "isnumeric",
        "isprintable", "isspace", "istitle", "isupper", "join", "ljust", "lower", "lstrip", "maketrans", "partition",
        "removeprefix", "removesuffix", "replace", "rfind", "rindex", "rjust", "rpartition", "rsplit", "rstrip", "split",
        "splitlines", "startswith", "strip", "swapcase", "title", "translate", "upper", "zfill",
    ];
    static readonly HashSet<string> DictSafe = ["get", "items", "keys", "values", "copy", "fromkeys"];
    static readonly HashSet<string> DictUnsafe = ["pop", "popitem", "setdefault", "update", "clear"];
    static readonly HashSet<string> ListSafe = ["count", "index", "copy"];
    static readonly HashSet<string> ListUnsafe = ["append", "extend", "insert", "pop", "remove", "reverse", "sort", "clear"];

    public static object? GetAttr(object? obj, string name)
    {
        switch (obj)
        {
            case Undefined u:
                throw u.Fail();
            case string or Markup when StrMethodNames.Contains(name):
                return StrMethods.Bind(PyOps.AsText(obj)!, name);
            case PyDict d:
                if (DictSafe.Contains(name)) return DictMethod(d, name);
                if (DictUnsafe.Contains(name)) return Unsafe(obj, name);
                return d.TryGetValue(name, out var v) ? v : Undefined.Attribute(obj, name);
            case List<object?> list:
                if (ListSafe.Contains(name)) return ListMethod(list, name);
                if (ListUnsafe.Contains(name)) return Unsafe(obj, name);
                break;
            case PyTuple t when name is "count" or "index":
                return ListMethod(t.Items.ToList(), name);
            case Namespace ns:
                return ns.Attributes.TryGetValue(name, out var nv) ? nv : Undefined.Attribute(obj, name);
            case LoopContext loop:
                return loop.Attribute(name);
        }
        return Undefined.Attribute(obj, name);
    }

    static object Unsafe(object obj, string name) =>
        throw PyException.Security($"access to attribute '{name}' of '{PyOps.TypeName(obj)}' object is unsafe.");

    public static object? GetItem(object? obj, object? key)
    {
        if (obj is Undefined u) throw u.Fail();
        if (key is Undefined && obj is not PyDict) return Undefined.Item(obj, key);
        switch (obj)
        {
            case PyDict d:
                if (key is List<object?> or PyDict) break; // unhashable: TypeError → falls back to undefined
                if (d.TryGetValue(key, out var v)) return v;
                break;
            case List<object?> or PyTuple or string or Markup or PyRange when key is bool or long:
                {
                    var items = obj switch
                    {
                        List<object?> l => l,
                        PyTuple t => t.Items,
                        PyRange r => r.Values().ToList(),
                        _ => PyStr.CodePoints(PyOps.AsText(obj)!).Cast<object?>().ToList(),
                    };
                    var i = PyOps.ToLong(key);
                    if (i < 0) i += items.Count;
                    if (i >= 0 && i < items.Count) return items[(int)i];
                    break;
                }
            case Namespace or LoopContext when key is string s:
                return GetAttr(obj, s);
        }
        if (key is string name && obj is not Namespace) return GetAttr(obj, name);
        return Undefined.Item(obj, key);
    }

    public static object? Slice(object? obj, object? start, object? stop, object? step)
    {
        long? Index(object? v) => v switch
        {
            null => null,
            bool or long => PyOps.ToLong(v),
            _ => throw PyException.Type("slice indices must be integers or None or have an __index__ method"),
        };
        long? a = Index(start), b = Index(stop), c = Index(step);
        return obj switch
        {
            Undefined u => throw u.Fail(),
            string s => PyStr.Slice(s, a, b, c),
            Markup m => new Markup(PyStr.Slice(m.Text, a, b, c)),
            List<object?> l => PyStr.SliceList(l, a, b, c),
            PyTuple t => new PyTuple(PyStr.SliceList(t.Items, a, b, c)),
            PyRange r => PyStr.SliceList(r.Values().ToList(), a, b, c),
            _ => Undefined.Item(obj, null),
        };
    }

    static BuiltinFunction DictMethod(PyDict d, string name) => new($"dict.{name}", (args, kwargs) =>
    {
        switch (name)
        {
            case "get":
                {
                    BuiltinFunction.NoKwargs("get", kwargs);
                    BuiltinFunction.Arity("get", args, 1, 2);
                    return d.TryGetValue(args[0], out var v) ? v : args.Count > 1 ? args[1] : null;
                }
            case "items":
            case "keys":
            case "values":
                BuiltinFunction.NoKwargs(name, kwargs);
                BuiltinFunction.Arity(name, args, 0, 0);
                return new PyDictView(d, name switch
                {
                    "items" => PyDictView.ViewKind.Items,
                    "keys" => PyDictView.ViewKind.Keys,
                    _ => PyDictView.ViewKind.Values,
                });
            case "copy":
                {
                    var copy = new PyDict();
                    foreach (var (k, v) in d.Entries) copy[k] = v;
                    return copy;
                }
            default:
                throw PyException.Unsupported($"dict.{name}");
        }
    });

    static BuiltinFunction ListMethod(List<object?> list, string name) => new($"list.{name}", (args, kwargs) =>
    {
        BuiltinFunction.NoKwargs(name, kwargs);
        switch (name)
        {
            case "count":
                BuiltinFunction.Arity("count", args, 1, 1);
                return (long)list.Count(x => PyOps.Equal(x, args[0]));
            case "index":
                {
                    BuiltinFunction.Arity("index", args, 1, 1);
                    var i = list.FindIndex(x => PyOps.Equal(x, args[0]));
                    return i >= 0 ? (long)i : throw PyException.Value($"{PyFormat.Repr(args[0])} is not in list");
                }
            default:
                return list.ToList();
        }
    });
}

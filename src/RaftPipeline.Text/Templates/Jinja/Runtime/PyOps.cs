namespace RaftPipeline.Text.Templates.Jinja.Runtime;

/// <summary>
/// Python semantics over the runtime's values: None is null, bool, int is long, float is double, str is string,
/// list is List&lt;object?&gt;, plus <see cref="PyTuple"/>, <see cref="PyDict"/>, <see cref="Undefined"/> and friends.
/// Templates print and compare these exactly as jinja2 running on CPython would.
/// </summary>
public static class PyOps
{
    public static string TypeName(object? v) => v switch
    {
        null => "NoneType",
        bool => "bool",
        long => "int",
        double => "float",
        string => "str",
        Markup => "Markup",
        List<object?> => "list",
        PyTuple => "tuple",
        PyDict => "dict",
        Undefined => "Undefined",
        Namespace => "Namespace",
        LoopContext => "LoopContext",
        PyRange => "range",
        PyIterator it => it.TypeName,
        PyDictView view => view.TypeName,
        Macro => "Macro",
        IPyCallable => "builtin_function_or_method",
        _ => v.GetType().Name,
    };

    public static bool IsNumber(object? v) => v is bool or long or double;
    public static bool IsString(object? v) => v is string or Markup;

    /// <summary>The text of a str or Markup; null for anything else.</summary>
    public static string? AsText(object? v) => v switch { string s => s, Markup m => m.Text, _ => null };

    public static bool Truthy(object? v) => v switch
    {
        null => false,
        bool b => b,
        long l => l != 0,
        double d => d != 0.0,
        string s => s.Length > 0,
        Markup m => m.Text.Length > 0,
        List<object?> l => l.Count > 0,
        PyTuple t => t.Items.Count > 0,
        PyDict d => d.Count > 0,
        PyRange r => r.Count > 0,
        PyDictView view => view.Dict.Count > 0,
        Undefined => false,
        _ => true,
    };

    // ------------------------------------------------------------------ iteration and size

    public static IEnumerable<object?> Iterate(object? v) => v switch
    {
        Undefined => [],
        string s => PyStr.CodePoints(s),
        Markup m => PyStr.CodePoints(m.Text),
        List<object?> l => l.ToList(),
        PyTuple t => t.Items,
        PyDict d => d.Keys.ToList(),
        PyRange r => r.Values(),
        PyIterator it => it.Consume(),
        PyDictView view => view.Values().ToList(),
        Namespace => throw PyException.Type("'Namespace' object is not iterable"),
        _ => throw PyException.Type($"'{TypeName(v)}' object is not iterable"),
    };

    public static bool IsIterable(object? v) =>
        v is Undefined or string or Markup or List<object?> or PyTuple or PyDict or PyRange or PyIterator or PyDictView;

    public static long Length(object? v) => v switch
    {
        string s => PyStr.Length(s),
        Markup m => PyStr.Length(m.Text),
        List<object?> l => l.Count,
        PyTuple t => t.Items.Count,
        PyDict d => d.Count,
        PyRange r => r.Count,
        PyDictView view => view.Dict.Count,
        Undefined => 0,
        _ => throw PyException.Type($"object of type '{TypeName(v)}' has no len()"),
    };

    // ------------------------------------------------------------------ equality, hashing, ordering

    public static bool Equal(object? a, object? b)
    {
        if (a is Undefined || b is Undefined) return a is Undefined && b is Undefined;
        if (a is null || b is null) return a is null && b is null;
        if (IsNumber(a) && IsNumber(b))
        {
            if (a is double || b is double) return ToDouble(a) == ToDouble(b);
            return ToLong(a) == ToLong(b);
        }
        if (IsString(a) && IsString(b)) return AsText(a) == AsText(b);
        switch (a)
        {
            case List<object?> la when b is List<object?> lb:
                return SequenceEqual(la, lb);
            case PyTuple ta when b is PyTuple tb:
                return SequenceEqual(ta.Items, tb.Items);
            case PyDict da when b is PyDict db:
                if (da.Count != db.Count) return false;
                foreach (var (k, v) in da.Entries)
                    if (!db.TryGetValue(k, out var other) || !Equal(v, other)) return false;
                return true;
            case PyRange ra when b is PyRange rb:
                return SequenceEqual(ra.Values().ToList(), rb.Values().ToList());
        }
        return ReferenceEquals(a, b);
    }

    static bool SequenceEqual(IReadOnlyList<object?> a, IReadOnlyList<object?> b)
    {
        if (a.Count != b.Count) return false;
        for (var i = 0; i < a.Count; i++)
            if (!Equal(a[i], b[i])) return false;
        return true;
    }

    public static int Hash(object? v) => v switch
    {
        null => 0,
        bool b => b ? 1 : 0,
        long l => l.GetHashCode(),
        double d => d == Math.Floor(d) && Math.Abs(d) < 9.2e18 ? ((long)d).GetHashCode() : d.GetHashCode(),
        string s => StringComparer.Ordinal.GetHashCode(s),
        Markup m => StringComparer.Ordinal.GetHashCode(m.Text),
        PyTuple t => t.Items.Aggregate(17, (h, x) => h * 31 + Hash(x)),
        Undefined => 7,
        List<object?> or PyDict or Namespace => throw PyException.Type($"unhashable type: '{TypeName(v)}'"),
        _ => v.GetHashCode(),
    };

    /// <summary>Python's &lt;, &lt;=, &gt;, &gt;= (op is the operator text).</summary>
    public static bool Order(string op, object? a, object? b)
    {
        var c = Compare(a, b, op);
        return op switch { "<" => c < 0, "<=" => c <= 0, ">" => c > 0, _ => c >= 0 };
    }

    /// <summary>Three-way comparison for ordering; raises TypeError where Python has no ordering.</summary>
    public static int Compare(object? a, object? b, string op = "<")
    {
        if (a is Undefined ua) throw ua.Fail();
        if (b is Undefined ub) throw ub.Fail();
        if (IsNumber(a) && IsNumber(b))
        {
            if (a is double || b is double)
            {
                double x = ToDouble(a), y = ToDouble(b);
                if (double.IsNaN(x) || double.IsNaN(y)) return op is "<" or "<=" ? 1 : -1; // every NaN comparison is False
                return x.CompareTo(y);
            }
            return ToLong(a).CompareTo(ToLong(b));
        }
        if (IsString(a) && IsString(b)) return PyStr.CompareCodePoints(AsText(a)!, AsText(b)!);
        if ((a is List<object?> && b is List<object?>) || (a is PyTuple && b is PyTuple))
        {
            var la = a is PyTuple ta ? ta.Items : (List<object?>)a;
            var lb = b is PyTuple tb ? tb.Items : (List<object?>)b!;
            for (var i = 0; i < Math.Min(la.Count, lb.Count); i++)
                if (!Equal(la[i], lb[i])) return Compare(la[i], lb[i], op);
            return la.Count.CompareTo(lb.Count);
        }
        throw PyException.Type($"'{op}' not supported between instances of '{TypeName(a)}' and '{TypeName(b)}'");
    }

    public static bool Contains(object? container, object? item)
    {
        switch (container)
        {
            case string or Markup:
                var text = AsText(container)!;
                if (item is Undefined u) throw u.Fail();
                var needle = AsText(item) ?? throw PyException.Type($"'in <string>' requires string as left operand, not {TypeName(item)}");
                return text.Contains(needle, StringComparison.Ordinal);
            case PyDict d:
                PyOps.Hash(item);
                return d.ContainsKey(item);
            case PyDictView { Kind: PyDictView.ViewKind.Keys } view:
                return view.Dict.ContainsKey(item);
            default:
                foreach (var x in Iterate(container))
                    if (Equal(x, item)) return true;
                return false;
        }
    }

    // ------------------------------------------------------------------ arithmetic

    public static long ToLong(object? v) => v switch { bool b => b ? 1 : 0, long l => l, _ => throw new InvalidCastException() };
    public static double ToDouble(object? v) => v switch { bool b => b ? 1 : 0, long l => l, double d => d, _ => throw new InvalidCastException() };

    static PyException Unsupported(string op, object? a, object? b)
    {
        if (a is Undefined ua) return ua.Fail();
        if (b is Undefined ub) return ub.Fail();
        return PyException.Type($"unsupported operand type(s) for {op}: '{TypeName(a)}' and '{TypeName(b)}'");
    }

    static long Checked(Func<long> f)
    {
        try { return f(); }
        catch (OverflowException) { throw PyException.Unsupported("integer arithmetic beyond 64 bits"); }
    }

    public static object? Add(object? a, object? b)
    {
        if (a is Undefined ua) throw ua.Fail();
        if (b is Undefined ub) throw ub.Fail();
        if (IsNumber(a) && IsNumber(b))
            return a is double || b is double ? (object)(ToDouble(a) + ToDouble(b)) : Checked(() => checked(ToLong(a) + ToLong(b)));
        if (a is Markup || b is Markup)
        {
            // markupsafe: Markup + str escapes the plain side.
            if (IsString(a) && IsString(b))
                return new Markup((a is Markup ma ? ma.Text : Markup.Escape((string)a!)) + (b is Markup mb ? mb.Text : Markup.Escape((string)b!)));
        }
        if (a is string sa)
        {
            if (b is string sb) return sa + sb;
            throw PyException.Type($"can only concatenate str (not \"{TypeName(b)}\") to str");
        }
        if (a is List<object?> la)
        {
            if (b is List<object?> lb) return la.Concat(lb).ToList();
            throw PyException.Type($"can only concatenate list (not \"{TypeName(b)}\") to list");
        }
        if (a is PyTuple ta)
        {
            if (b is PyTuple tb) return new PyTuple(ta.Items.Concat(tb.Items).ToList());
            throw PyException.Type($"can only concatenate tuple (not \"{TypeName(b)}\") to tuple");
        }
        throw Unsupported("+", a, b);
    }

    public static object? Subtract(object? a, object? b)
    {
        if (IsNumber(a) && IsNumber(b))
            return a is double || b is double ? (object)(ToDouble(a) - ToDouble(b)) : Checked(() => checked(ToLong(a) - ToLong(b)));
        throw Unsupported("-", a, b);
    }

    public static object? Multiply(object? a, object? b)
    {
        if (IsNumber(a) && IsNumber(b))
            return a is double || b is double ? (object)(ToDouble(a) * ToDouble(b)) : Checked(() => checked(ToLong(a) * ToLong(b)));
        if (a is bool or long && b is not (bool or long or double)) (a, b) = (b, a);
        if (b is bool or long)
        {
            var n = (int)Math.Clamp(ToLong(b), 0, int.MaxValue);
            switch (a)
            {
                case string s: return string.Concat(Enumerable.Repeat(s, n));
                case List<object?> l: return Enumerable.Repeat(l, n).SelectMany(x => x).ToList();
                case PyTuple t: return new PyTuple(Enumerable.Repeat(t.Items, n).SelectMany(x => x).ToList());
            }
        }
        throw Unsupported("*", a, b);
    }

    public static object? Divide(object? a, object? b)
    {
        if (IsNumber(a) && IsNumber(b))
        {
            var y = ToDouble(b);
            if (y == 0) throw new PyException("ZeroDivisionError", "division by zero");
            return ToDouble(a) / y;
        }
        throw Unsupported("/", a, b);
    }

    public static object? FloorDivide(object? a, object? b)
    {
        if (IsNumber(a) && IsNumber(b))
        {
            if (a is double || b is double) return FloatDivMod(ToDouble(a), ToDouble(b)).Div;
            long x = ToLong(a), y = ToLong(b);
            if (y == 0) throw new PyException("ZeroDivisionError", "integer division or modulo by zero");
            var q = x / y;
            if ((x % y != 0) && ((x < 0) != (y < 0))) q--;
            return q;
        }
        throw Unsupported("//", a, b);
    }

    public static object? Modulo(object? a, object? b)
    {
        if (a is string or Markup) return PyStr.PercentFormat(AsText(a)!, b);
        if (IsNumber(a) && IsNumber(b))
        {
            if (a is double || b is double) return FloatDivMod(ToDouble(a), ToDouble(b)).Mod;
            long x = ToLong(a), y = ToLong(b);
            if (y == 0) throw new PyException("ZeroDivisionError", "integer division or modulo by zero");
            var r = x % y;
            if (r != 0 && ((r < 0) != (y < 0))) r += y;
            return r;
        }
        throw Unsupported("%", a, b);
    }

    /// <summary>CPython's float_divmod, so that // and % on floats round exactly as Python does.</summary>
    static (double Div, double Mod) FloatDivMod(double vx, double wx)
    {
        if (wx == 0) throw new PyException("ZeroDivisionError", "float divmod()");
        var mod = vx % wx; // C fmod
        var div = (vx - mod) / wx;
        if (mod != 0)
        {
            if ((wx < 0) != (mod < 0))
            {
                mod += wx;
                div -= 1.0;
            }
        }
        else mod = Math.CopySign(0.0, wx);
        double floordiv;
        if (div != 0)
        {
            floordiv = Math.Floor(div);
            if (div - floordiv > 0.5) floordiv += 1.0;
        }
        else floordiv = Math.CopySign(0.0, vx / wx);
        return (floordiv, mod);
    }

    public static object? Power(object? a, object? b)
    {
        if (IsNumber(a) && IsNumber(b))
        {
            if (a is not double && b is not double && ToLong(b) >= 0)
            {
                long x = ToLong(a), e = ToLong(b), result = 1;
                return Checked(() =>
                {
                    for (var i = 0L; i < e; i++) result = checked(result * x);
                    return result;
                });
            }
            double fx = ToDouble(a), fy = ToDouble(b);
            if (fx == 0 && fy < 0) throw new PyException("ZeroDivisionError", "0.0 cannot be raised to a negative power");
            if (fx < 0 && fy != Math.Floor(fy)) throw PyException.Unsupported("a complex result of **");
            return Math.Pow(fx, fy);
        }
        throw Unsupported("** or pow()", a, b);
    }

    public static object? Negate(object? v) => v switch
    {
        bool b => (object)(b ? -1L : 0L),
        long l => l == long.MinValue ? throw PyException.Unsupported("integer arithmetic beyond 64 bits") : -l,
        double d => (object)-d,
        Undefined u => throw u.Fail(),
        _ => throw PyException.Type($"bad operand type for unary -: '{TypeName(v)}'"),
    };

    public static object? Plus(object? v) => v switch
    {
        bool b => b ? 1L : 0L,
        long or double => v,
        Undefined u => throw u.Fail(),
        _ => throw PyException.Type($"bad operand type for unary +: '{TypeName(v)}'"),
    };
}

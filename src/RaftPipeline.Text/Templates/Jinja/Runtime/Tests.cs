using Kw = System.Collections.Generic.IReadOnlyList<System.Collections.Generic.KeyValuePair<string, object?>>;

namespace RaftPipeline.Text.Templates.Jinja.Runtime;

/// <summary>jinja2 3.1's built-in tests (tests.py): <c>x is defined</c>, <c>x is divisibleby 3</c>, ...</summary>
public static class Tests
{
    delegate bool Test(object? value, IReadOnlyList<object?> args, Kw kwargs);

    static Test Unary(Func<object?, bool> f) => (v, a, k) =>
    {
        if (a.Count > 0 || k.Count > 0) throw PyException.Type("this test takes no arguments");
        return f(v);
    };

    static Test Binary(Func<object?, object?, bool> f) => (v, a, k) =>
    {
        var bound = ArgBinder.Bind("test", a, k, ("other", ArgBinder.Required));
        return f(v, bound[0]);
    };

    static readonly Dictionary<string, Test> Table = new()
    {
        ["boolean"] = Unary(v => v is bool),
        ["callable"] = Unary(v => v is IPyCallable),
        ["defined"] = Unary(v => v is not Undefined),
        ["divisibleby"] = Binary((v, n) => PyOps.Equal(PyOps.Modulo(v, n), 0L)),
        ["eq"] = Binary(PyOps.Equal),
        ["equalto"] = Binary(PyOps.Equal),
        ["=="] = Binary(PyOps.Equal),
        ["escaped"] = Unary(v => v is Markup),
        ["even"] = Unary(v => PyOps.Equal(PyOps.Modulo(v, 2L), 0L)),
        ["false"] = Unary(v => v is false),
        ["filter"] = Unary(v => PyOps.AsText(v) is { } s && Filters.IsKnown(s)),
        ["float"] = Unary(v => v is double),
        ["ge"] = Binary((a, b) => PyOps.Order(">=", a, b)),
        [">="] = Binary((a, b) => PyOps.Order(">=", a, b)),
        ["gt"] = Binary((a, b) => PyOps.Order(">", a, b)),
        [">"] = Binary((a, b) => PyOps.Order(">", a, b)),
        ["greaterthan"] = Binary((a, b) => PyOps.Order(">", a, b)),
        ["in"] = Binary((v, seq) => PyOps.Contains(seq, v)),
        ["integer"] = Unary(v => v is long),
        ["iterable"] = Unary(PyOps.IsIterable),
        ["le"] = Binary((a, b) => PyOps.Order("<=", a, b)),
        ["<="] = Binary((a, b) => PyOps.Order("<=", a, b)),
        ["lower"] = Unary(v => PyStr.IsLower(PyFormat.Str(v))),
        ["lt"] = Binary((a, b) => PyOps.Order("<", a, b)),
        ["<"] = Binary((a, b) => PyOps.Order("<", a, b)),
        ["lessthan"] = Binary((a, b) => PyOps.Order("<", a, b)),
        ["mapping"] = Unary(v => v is PyDict),
        ["ne"] = Binary((a, b) => !PyOps.Equal(a, b)),
        ["!="] = Binary((a, b) => !PyOps.Equal(a, b)),
        ["none"] = Unary(v => v is null),
        ["number"] = Unary(PyOps.IsNumber),
        ["odd"] = Unary(v => PyOps.Equal(PyOps.Modulo(v, 2L), 1L)),
        ["sameas"] = Binary(SameAs),
        ["sequence"] = Unary(v => v is Undefined or string or Markup or List<object?> or PyTuple or PyDict or PyRange),
        ["string"] = Unary(v => v is string or Markup),
        ["test"] = Unary(v => PyOps.AsText(v) is { } s && IsKnown(s)),
        ["true"] = Unary(v => v is true),
        ["undefined"] = Unary(v => v is Undefined),
        ["upper"] = Unary(v => PyStr.IsUpper(PyFormat.Str(v))),
    };

    /// <summary>Python's "is": singletons and small values compare by value, containers by identity.</summary>
    static bool SameAs(object? a, object? b) => a switch
    {
        null or bool => PyOps.Equal(a, b) && (b is null || b is bool),
        long or double or string => a.Equals(b),
        _ => ReferenceEquals(a, b),
    };

    public static bool IsKnown(string name) => Table.ContainsKey(name);

    public static bool Apply(string name, object? value, IReadOnlyList<object?> args, Kw kwargs) =>
        Table.TryGetValue(name, out var t) ? t(value, args, kwargs) : throw PyException.Unsupported($"the '{name}' test");
}

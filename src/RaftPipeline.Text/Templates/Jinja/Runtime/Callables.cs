namespace RaftPipeline.Text.Templates.Jinja.Runtime;

/// <summary>Anything a template can call: globals, bound methods, macros, caller().</summary>
public interface IPyCallable
{
    string Name { get; }
    object? Call(IReadOnlyList<object?> args, IReadOnlyList<KeyValuePair<string, object?>> kwargs);
}

/// <summary>A callable implemented in C# (a global function, or a method bound to its receiver).</summary>
public sealed class BuiltinFunction(string name, Func<IReadOnlyList<object?>, IReadOnlyList<KeyValuePair<string, object?>>, object?> body)
    : IPyCallable
{
    public string Name { get; } = name;
    public object? Call(IReadOnlyList<object?> args, IReadOnlyList<KeyValuePair<string, object?>> kwargs) => body(args, kwargs);

    public static void NoKwargs(string function, IReadOnlyList<KeyValuePair<string, object?>> kwargs)
    {
        if (kwargs.Count > 0) throw PyException.Type($"{function}() takes no keyword arguments");
    }

    public static void Arity(string function, IReadOnlyList<object?> args, int min, int max)
    {
        if (args.Count < min || args.Count > max)
            throw PyException.Type(min == max
                ? $"{function}() takes exactly {min} argument{(min == 1 ? "" : "s")} ({args.Count} given)"
                : $"{function}() takes from {min} to {max} arguments ({args.Count} given)");
    }
}

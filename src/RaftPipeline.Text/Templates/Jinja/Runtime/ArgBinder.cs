namespace RaftPipeline.Text.Templates.Jinja.Runtime;

/// <summary>Binds Python-style positional and keyword arguments to named parameters with defaults.</summary>
public static class ArgBinder
{
    /// <summary>Marks a parameter without a default.</summary>
    public static readonly object Required = new();

    /// <summary>
    /// Returns one value per parameter. <paramref name="parameters"/> pairs a name with its default
    /// (<see cref="Required"/> when there is none).
    /// </summary>
    public static object?[] Bind(string function, IReadOnlyList<object?> args, IReadOnlyList<KeyValuePair<string, object?>> kwargs,
        params (string Name, object? Default)[] parameters)
    {
        if (args.Count > parameters.Length)
            throw PyException.Type($"{function}() takes at most {parameters.Length} argument{(parameters.Length == 1 ? "" : "s")} ({args.Count} given)");
        var values = new object?[parameters.Length];
        var set = new bool[parameters.Length];
        for (var i = 0; i < args.Count; i++)
        {
            values[i] = args[i];
            set[i] = true;
        }
        foreach (var (name, value) in kwargs)
        {
            var i = Array.FindIndex(parameters, p => p.Name == name);
            if (i < 0) throw PyException.Type($"{function}() got an unexpected keyword argument '{name}'");
            if (set[i]) throw PyException.Type($"{function}() got multiple values for argument '{name}'");
            values[i] = value;
            set[i] = true;
        }
        for (var i = 0; i < parameters.Length; i++)
        {
            if (set[i]) continue;
            if (ReferenceEquals(parameters[i].Default, Required))
                throw PyException.Type($"{function}() missing required argument '{parameters[i].Name}'");
            values[i] = parameters[i].Default;
        }
        return values;
    }

    public static long? OptionalInt(string function, string parameter, object? v) => v switch
    {
        null => null,
        bool b => b ? 1 : 0,
        long l => l,
        Undefined u => throw u.Fail(),
        _ => throw PyException.Type($"{function}(): '{parameter}' must be an integer, not '{PyOps.TypeName(v)}'"),
    };

    public static string Text(string function, string parameter, object? v) =>
        v is Undefined u ? throw u.Fail()
        : PyOps.AsText(v) ?? throw PyException.Type($"{function}(): '{parameter}' must be str, not {PyOps.TypeName(v)}");
}

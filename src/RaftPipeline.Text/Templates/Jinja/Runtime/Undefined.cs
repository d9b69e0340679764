namespace RaftPipeline.Text.Templates.Jinja.Runtime;

/// <summary>
/// jinja2's default Undefined: renders as "", is falsy, iterates as empty, has length 0 and equals only another
/// Undefined; any other use (attribute, item, call, arithmetic) raises UndefinedError.
/// </summary>
public sealed class Undefined
{
    public Undefined(string hint) => Hint = hint;

    /// <summary>What jinja2 would say when this value is used, e.g. "'x' is undefined".</summary>
    public string Hint { get; }

    public static Undefined Named(string name) => new($"'{name}' is undefined");
    public static Undefined Attribute(object? owner, string name) => new($"'{PyOps.TypeName(owner)} object' has no attribute '{name}'");
    public static Undefined Item(object? owner, object? key) => new($"{PyOps.TypeName(owner)} object has no element {PyFormat.Repr(key)}");

    public PyException Fail() => PyException.Undefined(Hint);
}

namespace RaftPipeline.Text.Templates.Jinja.Runtime;

/// <summary>The <c>loop</c> variable of a for loop (jinja2's LoopContext), over an already-materialised list.</summary>
public sealed class LoopContext(IReadOnlyList<object?> items)
{
    public IReadOnlyList<object?> Items { get; } = items;
    public int Index0 { get; set; }

    public object? Attribute(string name) => name switch
    {
        "index" => (long)Index0 + 1,
        "index0" => (long)Index0,
        "revindex" => (long)(Items.Count - Index0),
        "revindex0" => (long)(Items.Count - Index0 - 1),
        "first" => Index0 == 0,
        "last" => Index0 == Items.Count - 1,
        "length" => (long)Items.Count,
        "depth" => 1L,
        "depth0" => 0L,
        "previtem" => Index0 > 0 ? Items[Index0 - 1] : new Undefined("there is no previous item"),
        "nextitem" => Index0 + 1 < Items.Count ? Items[Index0 + 1] : new Undefined("there is no next item"),
        "cycle" => new BuiltinFunction("cycle", (args, kwargs) =>
        {
            BuiltinFunction.NoKwargs("loop.cycle", kwargs);
            if (args.Count == 0) throw PyException.Type("no items for cycling given");
            return args[Index0 % args.Count];
        }),
        "changed" => throw PyException.Unsupported("loop.changed"),
        "__call__" => throw PyException.Unsupported("recursive loop()"),
        _ => Undefined.Attribute(this, name),
    };
}

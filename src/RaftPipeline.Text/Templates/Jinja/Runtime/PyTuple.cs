namespace RaftPipeline.Text.Templates.Jinja.Runtime;

/// <summary>A Python tuple: immutable, prints as (a, b) or (a,).</summary>
public sealed class PyTuple(IReadOnlyList<object?> items)
{
    public IReadOnlyList<object?> Items { get; } = items;
    public static readonly PyTuple Empty = new([]);
}

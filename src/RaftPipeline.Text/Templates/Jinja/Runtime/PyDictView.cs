namespace RaftPipeline.Text.Templates.Jinja.Runtime;

/// <summary><c>dict.keys()</c>, <c>.values()</c>, <c>.items()</c>: live, sized, re-iterable, printed as dict_keys([...]).</summary>
public sealed class PyDictView(PyDict dict, PyDictView.ViewKind kind)
{
    public enum ViewKind { Keys, Values, Items }

    public PyDict Dict { get; } = dict;
    public ViewKind Kind { get; } = kind;

    public string TypeName => Kind switch { ViewKind.Keys => "dict_keys", ViewKind.Values => "dict_values", _ => "dict_items" };

    public IEnumerable<object?> Values() => Kind switch
    {
        ViewKind.Keys => Dict.Keys,
        ViewKind.Values => Dict.Entries.Select(e => e.Value),
        _ => Dict.Entries.Select(e => (object?)new PyTuple([e.Key, e.Value])),
    };
}

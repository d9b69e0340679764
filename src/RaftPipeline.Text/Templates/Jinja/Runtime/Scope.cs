namespace RaftPipeline.Text.Templates.Jinja.Runtime;

/// <summary>
/// A frame of template variables. jinja2 gives each for-loop iteration, macro call and with/filter/set block its
/// own frame: assignments inside it do not leak out (hence namespace()), while if-blocks share their parent's.
/// </summary>
public sealed class Scope(Scope? parent)
{
    readonly Dictionary<string, object?> _vars = new(StringComparer.Ordinal);

    public Scope? Parent { get; } = parent;

    public bool TryGet(string name, out object? value)
    {
        for (var s = this; s is not null; s = s.Parent)
            if (s._vars.TryGetValue(name, out value)) return true;
        value = null;
        return false;
    }

    public object? Get(string name) => TryGet(name, out var v) ? v : Undefined.Named(name);

    public void Set(string name, object? value) => _vars[name] = value;
}

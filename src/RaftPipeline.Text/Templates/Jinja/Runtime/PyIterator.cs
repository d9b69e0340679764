namespace RaftPipeline.Text.Templates.Jinja.Runtime;

/// <summary>
/// A one-shot Python iterator/generator, as returned by jinja2's select/map/unique/items filters and reversed():
/// always truthy, has no len(), and a second pass sees nothing. Templates that forget <c>| list</c> behave as in Python.
/// </summary>
public sealed class PyIterator(IEnumerable<object?> source, string typeName = "generator")
{
    IEnumerator<object?>? _enumerator = source.GetEnumerator();

    public string TypeName { get; } = typeName;

    public IEnumerable<object?> Consume()
    {
        var e = _enumerator;
        _enumerator = null;
        if (e is null) yield break;
        using (e)
            while (e.MoveNext()) yield return e.Current;
    }
}

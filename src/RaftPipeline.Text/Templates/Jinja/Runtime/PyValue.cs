using System.Collections;
using System.Globalization;
using System.Text.Json;

namespace RaftPipeline.Text.Templates.Jinja.Runtime;

/// <summary>Converts .NET and JSON values into the runtime's Python-like values.</summary>
public static class PyValue
{
    public static object? From(object? v) => v switch
    {
        null => null,
        bool or long or double or string or PyDict or PyTuple or Undefined or Markup or Namespace or PyRange => v,
        List<object?> list => list.Select(From).ToList(),
        int i => (long)i,
        short s => (long)s,
        float f => (double)f,
        decimal m => (double)m,
        JsonElement e => FromJson(e),
        IDictionary dict => FromDictionary(dict),
        IEnumerable seq => seq.Cast<object?>().Select(From).ToList(),
        _ => throw new ArgumentException($"a template variable cannot be a {v.GetType().Name}"),
    };

    static PyDict FromDictionary(IDictionary dict)
    {
        var d = new PyDict();
        foreach (DictionaryEntry entry in dict) d[From(entry.Key)] = From(entry.Value);
        return d;
    }

    /// <summary>As Python's json.loads: objects keep key order, integers stay int, numbers with . or e are float.</summary>
    public static object? FromJson(JsonElement e)
    {
        switch (e.ValueKind)
        {
            case JsonValueKind.Null: return null;
            case JsonValueKind.True: return true;
            case JsonValueKind.False: return false;
            case JsonValueKind.String: return e.GetString();
            case JsonValueKind.Number:
                {
                    var raw = e.GetRawText();
                    if (raw.IndexOfAny(['.', 'e', 'E']) < 0)
                    {
                        if (long.TryParse(raw, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l)) return l;
                        throw new ArgumentException($"the integer {raw} is larger than 64 bits");
                    }
                    return double.Parse(raw, NumberStyles.Float, CultureInfo.InvariantCulture);
                }
            case JsonValueKind.Array:
                return e.EnumerateArray().Select(FromJson).ToList();
            case JsonValueKind.Object:
                {
                    var d = new PyDict();
                    foreach (var p in e.EnumerateObject()) d[p.Name] = FromJson(p.Value);
                    return d;
                }
            default:
                throw new ArgumentException($"unexpected JSON value kind {e.ValueKind}");
        }
    }
}

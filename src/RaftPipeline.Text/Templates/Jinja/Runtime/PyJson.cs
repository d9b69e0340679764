using System.Globalization;
using System.Text;

namespace RaftPipeline.Text.Templates.Jinja.Runtime;

/// <summary>
/// Python's json.dumps, as transformers' tojson filter calls it: ensure_ascii=False by default, keys in insertion
/// order, ", " and ": " separators (", " becomes "," when indenting), floats written as repr(float).
/// </summary>
public static class PyJson
{
    public static string Dumps(object? value, string? indent = null, string? itemSeparator = null, string? keySeparator = null,
        bool sortKeys = false, bool ensureAscii = false)
    {
        var sb = new StringBuilder();
        var writer = new Writer(sb, indent, itemSeparator ?? (indent is null ? ", " : ","), keySeparator ?? ": ", sortKeys, ensureAscii);
        writer.Write(value, 0);
        return sb.ToString();
    }

    sealed class Writer(StringBuilder sb, string? indent, string itemSep, string keySep, bool sortKeys, bool ensureAscii)
    {
        public void Write(object? v, int level)
        {
            switch (v)
            {
                case null: sb.Append("null"); break;
                case bool b: sb.Append(b ? "true" : "false"); break;
                case long l: sb.Append(l.ToString(CultureInfo.InvariantCulture)); break;
                case double d: sb.Append(Float(d)); break;
                case string or Markup: WriteString(PyOps.AsText(v)!); break;
                case List<object?> list: WriteArray(list, level); break;
                case PyTuple t: WriteArray(t.Items, level); break;
                case PyDict d: WriteObject(d, level); break;
                default: throw PyException.Type($"Object of type {PyOps.TypeName(v)} is not JSON serializable");
            }
        }

        static string Float(double d) =>
            double.IsNaN(d) ? "NaN" : double.IsPositiveInfinity(d) ? "Infinity" : double.IsNegativeInfinity(d) ? "-Infinity" : PyFormat.FloatRepr(d);

        void NewLine(int level)
        {
            if (indent is null) return;
            sb.Append('\n');
            for (var i = 0; i < level; i++) sb.Append(indent);
        }

        void WriteArray(IReadOnlyList<object?> items, int level)
        {
            if (items.Count == 0) { sb.Append("[]"); return; }
            sb.Append('[');
            for (var i = 0; i < items.Count; i++)
            {
                if (i > 0) sb.Append(itemSep);
                NewLine(level + 1);
                Write(items[i], level + 1);
            }
            NewLine(level);
            sb.Append(']');
        }

        void WriteObject(PyDict d, int level)
        {
            if (d.Count == 0) { sb.Append("{}"); return; }
            IEnumerable<KeyValuePair<object?, object?>> entries = d.Entries;
            if (sortKeys)
            {
                var list = d.Entries.ToList();
                list.Sort((x, y) => PyOps.Compare(x.Key, y.Key));
                entries = list;
            }
            sb.Append('{');
            var first = true;
            foreach (var (k, val) in entries)
            {
                if (!first) sb.Append(itemSep);
                first = false;
                NewLine(level + 1);
                WriteString(k switch
                {
                    string or Markup => PyOps.AsText(k)!,
                    null => "null",
                    bool b => b ? "true" : "false",
                    long l => l.ToString(CultureInfo.InvariantCulture),
                    double dd => Float(dd),
                    _ => throw PyException.Type($"keys must be str, int, float, bool or None, not {PyOps.TypeName(k)}"),
                });
                sb.Append(keySep);
                Write(val, level + 1);
            }
            NewLine(level);
            sb.Append('}');
        }

        void WriteString(string s)
        {
            sb.Append('"');
            foreach (var c in s)
            {
                switch (c)
                {
                    case '"': sb.Append("\\\""); break;
                    case '\\': sb.Append("\\\\"); break;
                    case '\n': sb.Append("\\n"); break;
                    case '\r': sb.Append("\\r"); break;
                    case '\t': sb.Append("\\t"); break;
                    case '\b': sb.Append("\\b"); break;
                    case '\f': sb.Append("\\f"); break;
                    default:
                        if (c < 0x20 || (ensureAscii && c > 0x7e))
                            sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                        else sb.Append(c);
                        break;
                }
            }
            sb.Append('"');
        }
    }
}

using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace RaftPipeline.Core.Engine;

/// <summary>
/// One byte-exact text for one value, whatever produced it: object keys sorted by ordinal, no whitespace,
/// integers as written, every other number as the shortest text that round-trips the double (so 1e-4 and
/// 0.0001 agree), strings escaped only where JSON requires (", \ and control characters), everything else
/// written as is. Hand-written rather than left to an encoder, whose escaping may change between .NET
/// versions and would silently change every key.
/// </summary>
public static class CanonicalJson
{
    public static string Write(JsonNode? node)
    {
        var sb = new StringBuilder();
        Write(node, sb);
        return sb.ToString();
    }

    static void Write(JsonNode? node, StringBuilder sb)
    {
        switch (node)
        {
            case null:
                sb.Append("null");
                break;
            case JsonObject obj:
                sb.Append('{');
                var first = true;
                foreach (var (key, value) in obj.OrderBy(p => p.Key, StringComparer.Ordinal))
                {
                    if (!first) sb.Append(',');
                    first = false;
                    WriteString(key, sb);
                    sb.Append(':');
                    Write(value, sb);
                }
                sb.Append('}');
                break;
            case JsonArray array:
                sb.Append('[');
                for (var i = 0; i < array.Count; i++)
                {
                    if (i > 0) sb.Append(',');
                    Write(array[i], sb);
                }
                sb.Append(']');
                break;
            case JsonValue value:
                WriteValue(value, sb);
                break;
        }
    }

    static void WriteValue(JsonValue value, StringBuilder sb)
    {
        var element = JsonSerializer.SerializeToElement(value);
        switch (element.ValueKind)
        {
            case JsonValueKind.String:
                WriteString(element.GetString()!, sb);
                break;
            case JsonValueKind.Number:
                sb.Append(CanonicalNumber(element.GetRawText()));
                break;
            case JsonValueKind.True:
                sb.Append("true");
                break;
            case JsonValueKind.False:
                sb.Append("false");
                break;
            case JsonValueKind.Null:
                sb.Append("null");
                break;
            default:
                throw new InvalidOperationException($"unexpected JSON value kind {element.ValueKind}");
        }
    }

    /// <summary>Integers keep their digits (a long may exceed a double's precision); others go through double.</summary>
    public static string CanonicalNumber(string raw)
    {
        if (raw.AsSpan().IndexOfAny(".eE") < 0)
        {
            var digits = raw.TrimStart('-').TrimStart('0');
            if (digits.Length == 0) return "0";
            return raw.StartsWith('-') ? "-" + digits : digits;
        }
        var d = double.Parse(raw, NumberStyles.Float, CultureInfo.InvariantCulture);
        if (d == 0) return "0";
        // "R" gives the shortest round-trip digits; lower-case the exponent and drop its '+' for one spelling.
        return d.ToString("R", CultureInfo.InvariantCulture).Replace("E+", "e").Replace("E-", "e-");
    }

    static void WriteString(string s, StringBuilder sb)
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
                    if (c < 0x20) sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    else sb.Append(c);
                    break;
            }
        }
        sb.Append('"');
    }
}

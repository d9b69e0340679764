using System.Globalization;
using System.Text;

namespace RaftPipeline.Text.Templates.Jinja.Runtime;

/// <summary>Python's str() and repr() of runtime values, which is what a template prints.</summary>
public static class PyFormat
{
    public static string Str(object? v) => v switch
    {
        string s => s,
        Markup m => m.Text,
        Undefined => "",
        _ => Repr(v),
    };

    public static string Repr(object? v)
    {
        var sb = new StringBuilder();
        AppendRepr(sb, v);
        return sb.ToString();
    }

    static void AppendRepr(StringBuilder sb, object? v)
    {
        switch (v)
        {
            case null: sb.Append("None"); break;
            case bool b: sb.Append(b ? "True" : "False"); break;
            case long l: sb.Append(l.ToString(CultureInfo.InvariantCulture)); break;
            case double d: sb.Append(FloatRepr(d)); break;
            case string s: AppendStringRepr(sb, s); break;
            case Markup m: sb.Append("Markup("); AppendStringRepr(sb, m.Text); sb.Append(')'); break;
            case Undefined: sb.Append("Undefined"); break;
            case List<object?> list:
                sb.Append('[');
                AppendItems(sb, list);
                sb.Append(']');
                break;
            case PyTuple t:
                sb.Append('(');
                AppendItems(sb, t.Items);
                if (t.Items.Count == 1) sb.Append(',');
                sb.Append(')');
                break;
            case PyDict d:
                AppendDict(sb, d);
                break;
            case PyRange r:
                sb.Append("range(").Append(r.Start).Append(", ").Append(r.Stop);
                if (r.Step != 1) sb.Append(", ").Append(r.Step);
                sb.Append(')');
                break;
            case PyDictView view:
                sb.Append(view.TypeName).Append("([");
                AppendItems(sb, view.Values().ToList());
                sb.Append("])");
                break;
            case Namespace ns:
                sb.Append("<Namespace ");
                AppendDict(sb, ns.Attributes);
                sb.Append('>');
                break;
            case LoopContext loop:
                sb.Append("<LoopContext ").Append(loop.Index0 + 1).Append('/').Append(loop.Items.Count).Append('>');
                break;
            case Macro macro:
                sb.Append("<Macro ");
                AppendStringRepr(sb, macro.Name);
                sb.Append('>');
                break;
            default:
                // CPython prints a memory address here (<generator object ... at 0x...>): no stable output to imitate.
                throw PyException.Unsupported($"printing a {PyOps.TypeName(v)} object");
        }
    }

    static void AppendItems(StringBuilder sb, IReadOnlyList<object?> items)
    {
        for (var i = 0; i < items.Count; i++)
        {
            if (i > 0) sb.Append(", ");
            AppendRepr(sb, items[i]);
        }
    }

    static void AppendDict(StringBuilder sb, PyDict d)
    {
        sb.Append('{');
        var first = true;
        foreach (var (k, val) in d.Entries)
        {
            if (!first) sb.Append(", ");
            first = false;
            AppendRepr(sb, k);
            sb.Append(": ");
            AppendRepr(sb, val);
        }
        sb.Append('}');
    }

    /// <summary>CPython's unicode_repr: single quotes unless the text has ' and no ", escapes for unprintables.</summary>
    public static void AppendStringRepr(StringBuilder sb, string s)
    {
        var quote = s.Contains('\'') && !s.Contains('"') ? '"' : '\'';
        sb.Append(quote);
        foreach (var rune in s.EnumerateRunes())
        {
            var c = rune.Value;
            if (c == quote || c == '\\') sb.Append('\\').Append((char)c);
            else if (c == '\t') sb.Append("\\t");
            else if (c == '\n') sb.Append("\\n");
            else if (c == '\r') sb.Append("\\r");
            else if (c < 0x20 || c == 0x7f) sb.Append("\\x").Append(c.ToString("x2", CultureInfo.InvariantCulture));
            else if (c < 0x7f) sb.Append((char)c);
            else if (IsPrintable(rune)) sb.Append(rune.ToString());
            else if (c <= 0xff) sb.Append("\\x").Append(c.ToString("x2", CultureInfo.InvariantCulture));
            else if (c <= 0xffff) sb.Append("\\u").Append(c.ToString("x4", CultureInfo.InvariantCulture));
            else sb.Append("\\U").Append(c.ToString("x8", CultureInfo.InvariantCulture));
        }
        // Lone surrogates: EnumerateRunes yields U+FFFD for them; CPython would print \udXXX. Rare enough to accept.
        sb.Append(quote);
    }

    /// <summary>str.isprintable for one code point: not a control, format, surrogate, private-use,
    /// unassigned or separator character other than the ASCII space.</summary>
    static bool IsPrintable(Rune r) => Rune.GetUnicodeCategory(r) switch
    {
        UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.Surrogate or UnicodeCategory.PrivateUse
            or UnicodeCategory.OtherNotAssigned or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator
            or UnicodeCategory.SpaceSeparator => r.Value == ' ',
        _ => true,
    };

    /// <summary>CPython's float repr: the shortest round-tripping digits, in fixed notation when the decimal point
    /// position is within (-4, 16], otherwise as 1.5e+16 / 1e-05; integral values keep ".0".</summary>
    public static string FloatRepr(double d)
    {
        if (double.IsNaN(d)) return "nan";
        if (double.IsPositiveInfinity(d)) return "inf";
        if (double.IsNegativeInfinity(d)) return "-inf";
        var (negative, digits, decpt) = ShortestDigits(d);
        var sign = negative ? "-" : "";
        if (digits.Length == 0) return sign + "0.0";
        if (decpt <= -4 || decpt > 16)
        {
            var exp = decpt - 1;
            var mantissa = digits.Length > 1 ? digits[0] + "." + digits[1..] : digits;
            return sign + mantissa + "e" + (exp < 0 ? "-" : "+") + Math.Abs(exp).ToString("00", CultureInfo.InvariantCulture);
        }
        if (decpt <= 0) return sign + "0." + new string('0', -decpt) + digits;
        if (decpt >= digits.Length) return sign + digits + new string('0', decpt - digits.Length) + ".0";
        return sign + digits[..decpt] + "." + digits[decpt..];
    }

    /// <summary>Shortest round-trip significant digits (no leading/trailing zeros) and the decimal point position:
    /// value = 0.DIGITS × 10^decpt.</summary>
    static (bool Negative, string Digits, int Decpt) ShortestDigits(double d)
    {
        var r = d.ToString("R", CultureInfo.InvariantCulture);
        var negative = r.StartsWith('-');
        if (negative) r = r[1..];
        var exp = 0;
        var e = r.IndexOfAny(['E', 'e']);
        if (e >= 0)
        {
            exp = int.Parse(r[(e + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
            r = r[..e];
        }
        var dot = r.IndexOf('.');
        var intLen = dot >= 0 ? dot : r.Length;
        var digits = r.Replace(".", "");
        var decpt = intLen + exp;
        var lead = 0;
        while (lead < digits.Length && digits[lead] == '0') lead++;
        digits = digits[lead..];
        decpt -= lead;
        digits = digits.TrimEnd('0');
        return (negative, digits, decpt);
    }
}

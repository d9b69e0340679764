using System.Globalization;
using System.Text;

namespace RaftPipeline.Text.Templates.Jinja.Runtime;

/// <summary>
/// Python str semantics over .NET strings: lengths, indices and slices count code points (not UTF-16 units),
/// whitespace is Python's, and the str methods chat templates call behave as CPython's.
/// </summary>
public static class PyStr
{
    static bool HasSurrogates(string s)
    {
        foreach (var c in s)
            if (char.IsSurrogate(c)) return true;
        return false;
    }

    /// <summary>The string split into code points (each a 1- or 2-char string).</summary>
    public static IReadOnlyList<string> CodePoints(string s)
    {
        var list = new List<string>(s.Length);
        for (var i = 0; i < s.Length; i++)
        {
            if (char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
            {
                list.Add(s.Substring(i, 2));
                i++;
            }
            else list.Add(s[i].ToString());
        }
        return list;
    }

    public static long Length(string s) => HasSurrogates(s) ? CodePoints(s).Count : s.Length;

    public static int CompareCodePoints(string a, string b)
    {
        var n = Math.Min(a.Length, b.Length);
        for (var i = 0; i < n; i++)
        {
            if (a[i] == b[i]) continue;
            // UTF-16 order differs from code point order only when a surrogate meets a char >= U+E000.
            bool sa = char.IsSurrogate(a[i]), sb = char.IsSurrogate(b[i]);
            if (sa != sb) return sa ? 1 : -1;
            return a[i].CompareTo(b[i]);
        }
        return a.Length.CompareTo(b.Length);
    }

    /// <summary>Python whitespace (str.isspace / str.split() / str.strip()).</summary>
    public static bool IsSpace(char c) => char.IsWhiteSpace(c) || (c >= '\x1c' && c <= '\x1f');

    public static string Index(string s, long index)
    {
        var points = CodePoints(s);
        var i = index < 0 ? index + points.Count : index;
        if (i < 0 || i >= points.Count) throw new PyException("IndexError", "string index out of range");
        return points[(int)i];
    }

    public static string Slice(string s, long? start, long? stop, long? step)
    {
        var points = CodePoints(s);
        return string.Concat(SliceList(points, start, stop, step));
    }

    /// <summary>Python's slice.indices() applied to a list.</summary>
    public static List<T> SliceList<T>(IReadOnlyList<T> items, long? start, long? stop, long? step)
    {
        var len = (long)items.Count;
        var st = step ?? 1;
        if (st == 0) throw PyException.Value("slice step cannot be zero");
        long lower = st > 0 ? 0 : -1, upper = st > 0 ? len : len - 1;
        long Clamp(long? v, long dflt)
        {
            if (v is null) return dflt;
            var x = v.Value < 0 ? v.Value + len : v.Value;
            return x < lower ? lower : x > upper ? upper : x;
        }
        var a = Clamp(start, st > 0 ? lower : upper);
        var b = Clamp(stop, st > 0 ? upper : lower);
        var result = new List<T>();
        for (var i = a; st > 0 ? i < b : i > b; i += st) result.Add(items[(int)i]);
        return result;
    }

    public static string Strip(string s, string? chars, bool left, bool right)
    {
        Func<char, bool> strip = chars is null ? IsSpace : chars.Contains;
        int a = 0, b = s.Length;
        if (left) while (a < b && strip(s[a])) a++;
        if (right) while (b > a && strip(s[b - 1])) b--;
        return s[a..b];
    }

    /// <summary>str.split(sep=None, maxsplit=-1).</summary>
    public static List<object?> Split(string s, string? sep, long maxsplit)
    {
        var parts = new List<object?>();
        if (sep is null)
        {
            var i = 0;
            while (true)
            {
                while (i < s.Length && IsSpace(s[i])) i++;
                if (i >= s.Length) break;
                if (maxsplit >= 0 && parts.Count == maxsplit)
                {
                    parts.Add(Strip(s[i..], null, left: false, right: true));
                    break;
                }
                var j = i;
                while (j < s.Length && !IsSpace(s[j])) j++;
                parts.Add(s[i..j]);
                i = j;
            }
            return parts;
        }
        if (sep.Length == 0) throw PyException.Value("empty separator");
        var start = 0;
        while (maxsplit < 0 || parts.Count < maxsplit)
        {
            var k = s.IndexOf(sep, start, StringComparison.Ordinal);
            if (k < 0) break;
            parts.Add(s[start..k]);
            start = k + sep.Length;
        }
        parts.Add(s[start..]);
        return parts;
    }

    /// <summary>str.rsplit(sep=None, maxsplit=-1).</summary>
    public static List<object?> RSplit(string s, string? sep, long maxsplit)
    {
        if (maxsplit < 0) return Split(s, sep, -1);
        var parts = new List<object?>();
        if (sep is null)
        {
            var i = s.Length;
            while (true)
            {
                while (i > 0 && IsSpace(s[i - 1])) i--;
                if (i <= 0) break;
                if (parts.Count == maxsplit)
                {
                    parts.Add(Strip(s[..i], null, left: true, right: false));
                    break;
                }
                var j = i;
                while (j > 0 && !IsSpace(s[j - 1])) j--;
                parts.Add(s[j..i]);
                i = j;
            }
            parts.Reverse();
            return parts;
        }
        if (sep.Length == 0) throw PyException.Value("empty separator");
        var end = s.Length;
        while (parts.Count < maxsplit)
        {
            var k = end - sep.Length < 0 ? -1 : s.LastIndexOf(sep, end - 1, end, StringComparison.Ordinal);
            if (k < 0) break;
            parts.Add(s[(k + sep.Length)..end]);
            end = k;
        }
        parts.Add(s[..end]);
        parts.Reverse();
        return parts;
    }

    static readonly string[] LineBreaks = ["\r\n", "\n", "\r", "\v", "\f", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"];

    public static List<object?> SplitLines(string s, bool keepends)
    {
        var lines = new List<object?>();
        var start = 0;
        var i = 0;
        while (i < s.Length)
        {
            var brk = LineBreaks.FirstOrDefault(b => string.CompareOrdinal(s, i, b, 0, b.Length) == 0 && i + b.Length <= s.Length);
            if (brk is null) { i++; continue; }
            lines.Add(keepends ? s[start..(i + brk.Length)] : s[start..i]);
            i += brk.Length;
            start = i;
        }
        if (start < s.Length) lines.Add(s[start..]);
        return lines;
    }

    public static string Replace(string s, string old, string @new, long count)
    {
        if (count < 0) count = long.MaxValue;
        var sb = new StringBuilder();
        if (old.Length == 0)
        {
            // Python inserts the replacement before every code point and at the end.
            var points = CodePoints(s);
            var done = 0L;
            foreach (var p in points)
            {
                if (done < count) { sb.Append(@new); done++; }
                sb.Append(p);
            }
            if (done < count) sb.Append(@new);
            return sb.ToString();
        }
        var start = 0;
        var n = 0L;
        while (n < count)
        {
            var k = s.IndexOf(old, start, StringComparison.Ordinal);
            if (k < 0) break;
            sb.Append(s, start, k - start).Append(@new);
            start = k + old.Length;
            n++;
        }
        sb.Append(s, start, s.Length - start);
        return sb.ToString();
    }

    static bool IsCased(char c) => char.IsUpper(c) || char.IsLower(c) || CharUnicodeInfo.GetUnicodeCategory(c) == UnicodeCategory.TitlecaseLetter;

    /// <summary>str.title(): a cased character after an uncased one is upper-cased, others lower-cased ("They'Re").</summary>
    public static string Title(string s)
    {
        var sb = new StringBuilder(s.Length);
        var prevCased = false;
        foreach (var c in s)
        {
            if (IsCased(c))
            {
                sb.Append(prevCased ? char.ToLowerInvariant(c) : char.ToUpperInvariant(c));
                prevCased = true;
            }
            else
            {
                sb.Append(c);
                prevCased = false;
            }
        }
        return sb.ToString();
    }

    public static string Capitalize(string s) =>
        s.Length == 0 ? s : char.ToUpperInvariant(s[0]) + s[1..].ToLowerInvariant();

    public static bool IsLower(string s) => s.Any(IsCased) && !s.Any(c => char.IsUpper(c) || CharUnicodeInfo.GetUnicodeCategory(c) == UnicodeCategory.TitlecaseLetter);
    public static bool IsUpper(string s) => s.Any(IsCased) && !s.Any(c => char.IsLower(c) || CharUnicodeInfo.GetUnicodeCategory(c) == UnicodeCategory.TitlecaseLetter);

    /// <summary>printf-style <c>str % args</c> for the common conversions (%s %r %d %i %f %x %%).</summary>
    public static string PercentFormat(string format, object? args)
    {
        if (args is PyDict) throw PyException.Unsupported("%-formatting with a mapping");
        var values = args is PyTuple t ? t.Items : [args];
        var next = 0;
        var sb = new StringBuilder();
        for (var i = 0; i < format.Length; i++)
        {
            var c = format[i];
            if (c != '%') { sb.Append(c); continue; }
            if (++i >= format.Length) throw PyException.Value("incomplete format");
            var flags = "";
            while (i < format.Length && "-+ 0#".Contains(format[i])) flags += format[i++];
            var width = 0;
            while (i < format.Length && char.IsAsciiDigit(format[i])) width = width * 10 + (format[i++] - '0');
            int? precision = null;
            if (i < format.Length && format[i] == '.')
            {
                i++;
                precision = 0;
                while (i < format.Length && char.IsAsciiDigit(format[i])) precision = precision * 10 + (format[i++] - '0');
            }
            if (i >= format.Length) throw PyException.Value("incomplete format");
            var conv = format[i];
            if (conv == '%') { sb.Append('%'); continue; }
            if (next >= values.Count) throw PyException.Type("not enough arguments for format string");
            var v = values[next++];
            string text;
            switch (conv)
            {
                case 's': text = PyFormat.Str(v); if (precision is { } p) text = text[..Math.Min(p, text.Length)]; break;
                case 'r': text = PyFormat.Repr(v); break;
                case 'd' or 'i':
                    text = v switch
                    {
                        bool or long => PyOps.ToLong(v).ToString(CultureInfo.InvariantCulture),
                        double d => ((long)Math.Truncate(d)).ToString(CultureInfo.InvariantCulture),
                        _ => throw PyException.Type($"%{conv} format: a real number is required, not {PyOps.TypeName(v)}"),
                    };
                    if (flags.Contains('+') && !text.StartsWith('-')) text = "+" + text;
                    break;
                case 'f' or 'F':
                    if (!PyOps.IsNumber(v)) throw PyException.Type($"must be real number, not {PyOps.TypeName(v)}");
                    text = PyOps.ToDouble(v).ToString("F" + (precision ?? 6), CultureInfo.InvariantCulture);
                    if (flags.Contains('+') && !text.StartsWith('-')) text = "+" + text;
                    break;
                case 'x' or 'X':
                    if (v is not (bool or long)) throw PyException.Type($"%x format: an integer is required, not {PyOps.TypeName(v)}");
                    var l = PyOps.ToLong(v);
                    text = (l < 0 ? "-" : "") + Math.Abs(l).ToString(conv == 'x' ? "x" : "X", CultureInfo.InvariantCulture);
                    break;
                default: throw PyException.Unsupported($"the %{conv} conversion");
            }
            if (text.Length < width)
                text = flags.Contains('-') ? text.PadRight(width)
                    : flags.Contains('0') && conv is not ('s' or 'r') ? ZeroPad(text, width) : text.PadLeft(width);
            sb.Append(text);
        }
        if (next < values.Count) throw PyException.Type("not all arguments converted during string formatting");
        return sb.ToString();
    }

    static string ZeroPad(string text, int width) =>
        text.StartsWith('-') || text.StartsWith('+') ? text[0] + text[1..].PadLeft(width - 1, '0') : text.PadLeft(width, '0');

    /// <summary>str.format with plain fields: {}, {0}, {name}, {!r}, and {{ }}; format specs are not supported.</summary>
    public static string Format(string format, IReadOnlyList<object?> args, IReadOnlyList<KeyValuePair<string, object?>> kwargs)
    {
        var sb = new StringBuilder();
        var auto = 0;
        for (var i = 0; i < format.Length; i++)
        {
            var c = format[i];
            if (c == '}')
            {
                if (i + 1 < format.Length && format[i + 1] == '}') { sb.Append('}'); i++; continue; }
                throw PyException.Value("Single '}' encountered in format string");
            }
            if (c != '{') { sb.Append(c); continue; }
            if (i + 1 < format.Length && format[i + 1] == '{') { sb.Append('{'); i++; continue; }
            var close = format.IndexOf('}', i);
            if (close < 0) throw PyException.Value("Single '{' encountered in format string");
            var field = format[(i + 1)..close];
            i = close;
            var conversion = 's';
            var bang = field.IndexOf('!');
            if (bang >= 0)
            {
                if (field.Length != bang + 2 || field[bang + 1] is not ('r' or 's')) throw PyException.Unsupported($"the format field '{{{field}}}'");
                conversion = field[bang + 1];
                field = field[..bang];
            }
            if (field.Contains(':') || field.Contains('.') || field.Contains('[')) throw PyException.Unsupported($"the format field '{{{field}}}'");
            object? value;
            if (field.Length == 0)
            {
                if (auto >= args.Count) throw new PyException("IndexError", $"Replacement index {auto} out of range for positional args tuple");
                value = args[auto++];
            }
            else if (field.All(char.IsAsciiDigit))
            {
                var n = int.Parse(field, CultureInfo.InvariantCulture);
                if (n >= args.Count) throw new PyException("IndexError", $"Replacement index {n} out of range for positional args tuple");
                value = args[n];
            }
            else
            {
                var kw = kwargs.FirstOrDefault(k => k.Key == field);
                if (kw.Key is null) throw new PyException("KeyError", $"'{field}'");
                value = kw.Value;
            }
            sb.Append(conversion == 'r' ? PyFormat.Repr(value) : PyFormat.Str(value));
        }
        return sb.ToString();
    }
}

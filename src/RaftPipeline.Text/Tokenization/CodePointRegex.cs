using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace RaftPipeline.Text.Tokenization;

/// <summary>
/// Translates a Hugging Face pre-tokenizer pattern (Oniguruma syntax, matched by code point in Rust) into a
/// .NET <see cref="Regex"/> that matches the same code points.
/// </summary>
/// <remarks>
/// .NET regexes see UTF-16 code units: <c>\p{L}</c> never matches a letter outside the BMP (its two surrogate
/// halves are category Cs), while <c>[^\s\p{L}\p{N}]</c> matches each half on its own. Used as-is, the Qwen
/// pattern splits "a𠀀b" into three pieces where Hugging Face keeps one, and splits the surrogate pair of
/// "𝟏" (a digit) apart. So every character class is rewritten to consume a whole code point: its BMP part
/// stays a .NET class (same Unicode data as <see cref="CharUnicodeInfo"/>), its supplementary part becomes an
/// alternation of surrogate pairs computed from the class's meaning. Constructs whose meaning differs
/// between the two engines (<c>\w</c>, <c>\b</c>, nested classes, scripts) are refused, never guessed.
/// </remarks>
public static class CodePointRegex
{
    /// <summary>Builds the .NET regex for <paramref name="pattern"/>; throws <see cref="NotSupportedException"/>
    /// naming the construct and its offset when the pattern uses something not translated.</summary>
    public static Regex Create(string pattern) =>
        new(Translate(pattern), RegexOptions.CultureInvariant | RegexOptions.Compiled);

    /// <summary>The translated .NET pattern text (exposed for tests and error messages).</summary>
    public static string Translate(string pattern)
    {
        var output = new StringBuilder(pattern.Length * 2);
        var i = 0;
        while (i < pattern.Length)
        {
            var c = pattern[i];
            switch (c)
            {
                case '\\':
                    {
                        var start = i;
                        var item = ParseEscape(pattern, ref i, inClass: false);
                        if (item is null) output.Append(pattern, start, i - start); // an anchor kept verbatim
                        else if (item is LiteralRange { Low: var low, High: var high } && low == high) output.Append(EmitLiteral(low));
                        else output.Append(Emit(new CharSet(false, [item])));
                        break;
                    }
                case '[':
                    output.Append(Emit(ParseClass(pattern, ref i)));
                    break;
                case '.':
                    i++;
                    output.Append(Emit(new CharSet(true, [new LiteralRange('\n', '\n')])));
                    break;
                case '(' when i + 2 < pattern.Length && pattern[i + 1] == '?' && pattern[i + 2] == '<'
                               && i + 3 < pattern.Length && pattern[i + 3] is '=' or '!':
                    throw Unsupported(pattern, i, "lookbehind '(?<='/'(?<!'");
                case '^' or '$':
                    // Oniguruma's Ruby syntax makes these line anchors; .NET's '$' also matches before a final '\n'.
                    throw Unsupported(pattern, i, $"the anchor '{c}'");
                default:
                    if (char.IsHighSurrogate(c) && i + 1 < pattern.Length && char.IsLowSurrogate(pattern[i + 1]))
                    {
                        output.Append(EmitLiteral(char.ConvertToUtf32(c, pattern[i + 1])));
                        i += 2;
                    }
                    else
                    {
                        output.Append(c); // group syntax, alternation, quantifiers and BMP literals mean the same
                        i++;
                    }
                    break;
            }
        }
        return output.ToString();
    }

    // --- parsing --------------------------------------------------------------------------------------

    abstract record ClassItem
    {
        public abstract bool Contains(int codePoint);
        /// <summary>The item as .NET class syntax, exact for BMP code points.</summary>
        public abstract string BmpSyntax { get; }
    }

    sealed record LiteralRange(int Low, int High) : ClassItem
    {
        public override bool Contains(int codePoint) => codePoint >= Low && codePoint <= High;
        public override string BmpSyntax => Low > 0xFFFF ? "" : Low == Math.Min(High, 0xFFFF)
            ? $"\\u{Low:X4}" : $"\\u{Low:X4}-\\u{Math.Min(High, 0xFFFF):X4}";
    }

    sealed record CategoryItem(string Name, bool Negated, HashSet<UnicodeCategory> Categories) : ClassItem
    {
        public override bool Contains(int codePoint) =>
            Categories.Contains(CharUnicodeInfo.GetUnicodeCategory(codePoint)) != Negated;
        public override string BmpSyntax => (Negated ? "\\P{" : "\\p{") + Name + "}";
    }

    /// <summary>Oniguruma's Unicode <c>\s</c> is the White_Space property, as are .NET's <c>\s</c> and
    /// <see cref="char.IsWhiteSpace(char)"/> (tab..CR, space, U+0085, U+00A0, U+1680, U+2000..U+200A,
    /// U+2028, U+2029, U+202F, U+205F, U+3000).</summary>
    sealed record WhiteSpaceItem(bool Negated) : ClassItem
    {
        public override bool Contains(int codePoint) =>
            (codePoint <= 0xFFFF && char.IsWhiteSpace((char)codePoint)) != Negated;
        public override string BmpSyntax => Negated ? "\\S" : "\\s";
    }

    sealed record CharSet(bool Negated, List<ClassItem> Items)
    {
        public bool Contains(int codePoint) => Items.Any(item => item.Contains(codePoint)) != Negated;
    }

    static readonly string[] CategoryAbbreviations =
    [
        // In UnicodeCategory's declaration order.
        "Lu", "Ll", "Lt", "Lm", "Lo", "Mn", "Mc", "Me", "Nd", "Nl", "No", "Zs", "Zl", "Zp", "Cc", "Cf", "Cs", "Co",
        "Pc", "Pd", "Ps", "Pe", "Pi", "Pf", "Po", "Sm", "Sc", "Sk", "So", "Cn",
    ];

    static HashSet<UnicodeCategory>? CategoriesNamed(string name)
    {
        var set = new HashSet<UnicodeCategory>();
        for (var k = 0; k < CategoryAbbreviations.Length; k++)
        {
            var abbreviation = CategoryAbbreviations[k];
            if (name.Length == 1 ? abbreviation[0] == name[0] : abbreviation == name) set.Add((UnicodeCategory)k);
        }
        return set.Count == 0 ? null : set;
    }

    /// <summary>Parses the escape at <paramref name="i"/>; returns null for an anchor (outside classes).</summary>
    static ClassItem? ParseEscape(string pattern, ref int i, bool inClass)
    {
        var start = i;
        if (i + 1 >= pattern.Length) throw Unsupported(pattern, i, "a trailing backslash");
        var e = pattern[i + 1];
        i += 2;
        switch (e)
        {
            case 'p' or 'P':
                {
                    if (i >= pattern.Length || pattern[i] != '{') throw Unsupported(pattern, start, $"'\\{e}' without braces");
                    var close = pattern.IndexOf('}', i);
                    if (close < 0) throw Unsupported(pattern, start, "an unterminated '\\p{'");
                    var name = pattern[(i + 1)..close];
                    var negated = e == 'P';
                    if (name.StartsWith('^')) { negated = !negated; name = name[1..]; }
                    var categories = CategoriesNamed(name)
                        ?? throw Unsupported(pattern, start, $"the property '\\{e}{{{name}}}' (only general categories such as L, Lu, N, Nd, P, S, Z are translated)");
                    i = close + 1;
                    return new CategoryItem(name, negated, categories);
                }
            case 's': return new WhiteSpaceItem(false);
            case 'S': return new WhiteSpaceItem(true);
            // Oniguruma's Unicode \d is the Nd category.
            case 'd': return new CategoryItem("Nd", false, [UnicodeCategory.DecimalDigitNumber]);
            case 'D': return new CategoryItem("Nd", true, [UnicodeCategory.DecimalDigitNumber]);
            case 'r': return Single('\r');
            case 'n': return Single('\n');
            case 't': return Single('\t');
            case 'f': return Single('\f');
            case 'v': return Single('\v');
            case 'a': return Single('\a');
            case 'e': return Single('\u001b');
            case 'u':
                {
                    if (i + 4 > pattern.Length || !int.TryParse(pattern.AsSpan(i, 4), NumberStyles.HexNumber, null, out var code))
                        throw Unsupported(pattern, start, "'\\u' without four hex digits");
                    i += 4;
                    return Single(code);
                }
            case 'x':
                {
                    if (i < pattern.Length && pattern[i] == '{')
                    {
                        var close = pattern.IndexOf('}', i);
                        if (close < 0 || !int.TryParse(pattern.AsSpan(i + 1, close - i - 1), NumberStyles.HexNumber, null, out var braced))
                            throw Unsupported(pattern, start, "a malformed '\\x{...}'");
                        i = close + 1;
                        return Single(braced);
                    }
                    if (i + 2 > pattern.Length || !int.TryParse(pattern.AsSpan(i, 2), NumberStyles.HexNumber, null, out var code))
                        throw Unsupported(pattern, start, "'\\x' without two hex digits");
                    i += 2;
                    return Single(code);
                }
            case 'A' or 'z' or 'Z' or 'G' when !inClass:
                return null;
            case 'w' or 'W' or 'b' or 'B' or 'h' or 'H' or 'k' or 'K' or 'R' or 'X' or 'N' or 'O' or 'g' or 'Q' or 'E':
                throw Unsupported(pattern, start, $"'\\{e}' (its meaning differs between Oniguruma and .NET)");
            default:
                if (char.IsAsciiLetterOrDigit(e)) throw Unsupported(pattern, start, $"the escape '\\{e}'");
                return Single(e); // an escaped punctuation character stands for itself
        }
    }

    static LiteralRange Single(int codePoint) => new(codePoint, codePoint);

    static CharSet ParseClass(string pattern, ref int i)
    {
        var start = i;
        i++;
        var negated = false;
        if (i < pattern.Length && pattern[i] == '^') { negated = true; i++; }
        var items = new List<ClassItem>();
        var first = true;
        while (true)
        {
            if (i >= pattern.Length) throw Unsupported(pattern, start, "an unterminated '['");
            var c = pattern[i];
            if (c == ']' && !first) { i++; break; }
            if (c == '[') throw Unsupported(pattern, i, "a nested class or POSIX bracket inside '[...]'");
            if (c == '&' && i + 1 < pattern.Length && pattern[i + 1] == '&') throw Unsupported(pattern, i, "class intersection '&&'");
            first = false;
            var item = ReadClassAtom(pattern, ref i);
            if (item is LiteralRange { Low: var low } single && single.Low == single.High
                && i + 1 < pattern.Length && pattern[i] == '-' && pattern[i + 1] != ']')
            {
                i++;
                if (ReadClassAtom(pattern, ref i) is not LiteralRange { Low: var high } upper || upper.Low != upper.High || high < low)
                    throw Unsupported(pattern, i, "a malformed range inside '[...]'");
                item = new LiteralRange(low, high);
            }
            items.Add(item);
        }
        return new CharSet(negated, items);
    }

    static ClassItem ReadClassAtom(string pattern, ref int i)
    {
        var c = pattern[i];
        if (c == '\\') return ParseEscape(pattern, ref i, inClass: true)!;
        if (char.IsHighSurrogate(c) && i + 1 < pattern.Length && char.IsLowSurrogate(pattern[i + 1]))
        {
            i += 2;
            return Single(char.ConvertToUtf32(c, pattern[i - 1]));
        }
        i++;
        return Single(c);
    }

    static NotSupportedException Unsupported(string pattern, int offset, string what) =>
        new($"pattern offset {offset}: {what} is not supported in a pre-tokenizer regex");

    // --- emitting -------------------------------------------------------------------------------------

    const string Surrogates = "\\uD800-\\uDFFF";

    static string EmitLiteral(int codePoint)
    {
        if (codePoint > 0xFFFF)
        {
            var text = char.ConvertFromUtf32(codePoint);
            return $"(?:\\u{(int)text[0]:X4}\\u{(int)text[1]:X4})";
        }
        return char.IsAsciiLetterOrDigit((char)codePoint) ? ((char)codePoint).ToString() : $"\\u{codePoint:X4}";
    }

    /// <summary>One code point of the set: a BMP class (never a lone surrogate) or a surrogate pair.</summary>
    static string Emit(CharSet set)
    {
        var bmpItems = string.Concat(set.Items.Select(item => item.BmpSyntax));
        string bmp;
        if (set.Negated) bmp = $"[^{bmpItems}{Surrogates}]";
        else if (bmpItems.Length == 0) bmp = "";
        else bmp = $"[{bmpItems}-[{Surrogates}]]";

        var supplementary = EmitSupplementary(set);
        if (supplementary.Length == 0) return bmp.Length == 0 ? "(?!)" : bmp;
        return bmp.Length == 0 ? $"(?:{supplementary})" : $"(?:{bmp}|{supplementary})";
    }

    static string EmitSupplementary(CharSet set)
    {
        // For each high surrogate, the ranges of low surrogates whose code point is in the set.
        var byHigh = new List<(int High, string Lows)>();
        for (var high = 0xD800; high <= 0xDBFF; high++)
        {
            var lows = new StringBuilder();
            var baseCodePoint = 0x10000 + ((high - 0xD800) << 10);
            var runStart = -1;
            for (var low = 0; low <= 0x400; low++)
            {
                var inSet = low < 0x400 && set.Contains(baseCodePoint + low);
                if (inSet && runStart < 0) runStart = low;
                else if (!inSet && runStart >= 0)
                {
                    lows.Append(runStart == low - 1
                        ? $"\\u{0xDC00 + runStart:X4}"
                        : $"\\u{0xDC00 + runStart:X4}-\\u{0xDC00 + low - 1:X4}");
                    runStart = -1;
                }
            }
            if (lows.Length > 0) byHigh.Add((high, lows.ToString()));
        }

        // Neighbouring high surrogates with the same lows share one alternative.
        var alternatives = new List<string>();
        for (var k = 0; k < byHigh.Count;)
        {
            var end = k;
            while (end + 1 < byHigh.Count && byHigh[end + 1].High == byHigh[end].High + 1 && byHigh[end + 1].Lows == byHigh[k].Lows) end++;
            var highs = end == k ? $"\\u{byHigh[k].High:X4}" : $"[\\u{byHigh[k].High:X4}-\\u{byHigh[end].High:X4}]";
            alternatives.Add($"{highs}[{byHigh[k].Lows}]");
            k = end + 1;
        }
        return string.Join("|", alternatives);
    }
}

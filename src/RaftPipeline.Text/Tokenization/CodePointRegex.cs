using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace RaftPipeline.Text.Tokenization;

/// <summary>
/// A Hugging Face pre-tokenizer pattern (Oniguruma syntax, matched by code point in Rust) run by a .NET
/// <see cref="Regex"/> so that it matches the same code points.
/// </summary>
/// <remarks>
/// .NET regexes see UTF-16 code units: <c>\p{L}</c> never matches a letter outside the BMP (its two surrogate
/// halves are category Cs), while <c>[^\s\p{L}\p{N}]</c> matches each half on its own. Used as-is, the Qwen
/// pattern splits "a𠀀b" into three pieces where Hugging Face keeps one, and cuts the surrogate pair of the
/// digit "𝟏" in two. So text holding supplementary characters is matched through a stand-in: each surrogate
/// pair becomes one BMP character of the same general category that no literal of the pattern matches.
/// Every class of a supported pattern depends only on general category, White_Space (no supplementary
/// character has it) and BMP literals, so the stand-in matches exactly where the original code point would;
/// match positions are mapped back. Constructs whose meaning differs between the two engines (<c>\w</c>,
/// <c>\b</c>, nested classes, scripts, anchors, literals outside the BMP) are refused, never guessed.
/// </remarks>
public sealed class CodePointRegex
{
    readonly char[] _standIns;

    CodePointRegex(string pattern, string translated, char[] standIns)
    {
        Pattern = pattern;
        Regex = new Regex(translated, RegexOptions.CultureInvariant | RegexOptions.Compiled);
        _standIns = standIns;
    }

    /// <summary>The Oniguruma pattern as written in tokenizer.json.</summary>
    public string Pattern { get; }

    /// <summary>The .NET regex run on BMP text (or on the stand-in text).</summary>
    public Regex Regex { get; }

    /// <summary>Builds the matcher; throws <see cref="NotSupportedException"/> naming the construct and its
    /// offset when the pattern uses something not translated.</summary>
    public static CodePointRegex Create(string pattern)
    {
        var literals = new List<LiteralRange>();
        var translated = Translate(pattern, literals);
        return new CodePointRegex(pattern, translated, ChooseStandIns(literals));
    }

    /// <summary>Non-overlapping matches, left to right, as (index, length) in UTF-16 units of <paramref name="text"/>.</summary>
    public List<(int Index, int Length)> Matches(ReadOnlySpan<char> text)
    {
        var found = new List<(int, int)>();
        if (text.IndexOfAnyInRange('\uD800', '\uDFFF') < 0)
        {
            foreach (var match in Regex.EnumerateMatches(text)) found.Add((match.Index, match.Length));
            return found;
        }

        // standIn[j] stands for the code point starting at text[start[j]]; start[^1] is text.Length.
        var standIn = new char[text.Length];
        var start = new int[text.Length + 1];
        var n = 0;
        for (var i = 0; i < text.Length; i++)
        {
            start[n] = i;
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                var category = CharUnicodeInfo.GetUnicodeCategory(char.ConvertToUtf32(text[i], text[i + 1]));
                standIn[n++] = _standIns[(int)category];
                i++;
            }
            else standIn[n++] = text[i]; // BMP, or an unpaired surrogate that no class matches
        }
        start[n] = text.Length;
        foreach (var match in Regex.EnumerateMatches(standIn.AsSpan(0, n)))
            found.Add((start[match.Index], start[match.Index + match.Length] - start[match.Index]));
        return found;
    }

    /// <summary>For each general category, a BMP character of it that is not white space and that no literal
    /// of the pattern matches (in either case, for <c>(?i)</c>).</summary>
    static char[] ChooseStandIns(List<LiteralRange> literals)
    {
        bool IsLiteral(char c) => literals.Any(l => l.Contains(c) || l.Contains(char.ToUpperInvariant(c)) || l.Contains(char.ToLowerInvariant(c)));
        var standIns = new char[CategoryAbbreviations.Length];
        for (var c = 0x80; c <= 0xFFFF; c++)
        {
            if (c is >= 0xD800 and <= 0xDFFF) continue;
            var category = (int)CharUnicodeInfo.GetUnicodeCategory((char)c);
            if (standIns[category] != '\0' || char.IsWhiteSpace((char)c) || IsLiteral((char)c)) continue;
            standIns[category] = (char)c;
        }
        return standIns;
    }

    /// <summary>The .NET pattern text (exposed for tests and error messages).</summary>
    public static string Translate(string pattern) => Translate(pattern, []);

    static string Translate(string pattern, List<LiteralRange> literals)
    {
        var output = new StringBuilder(pattern.Length * 2);
        // (?i) scopes: Oniguruma folds case by Unicode case folding ("s" also matches "ſ" U+017F), .NET by
        // its own table (it does not), so letters under (?i) are written out as classes of their equivalents.
        var ignoreCase = false;
        var scopes = new Stack<bool>();
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
                        else
                        {
                            if (item is LiteralRange literal) literals.Add(Bmp(literal, pattern, start));
                            output.Append(item is LiteralRange { Low: var low, High: var high } && low == high
                                ? EmitLiteral(low) : Emit(new CharSet(false, [item])));
                        }
                        break;
                    }
                case '[':
                    {
                        var start = i;
                        var set = ParseClass(pattern, ref i);
                        foreach (var literal in set.Items.OfType<LiteralRange>()) literals.Add(Bmp(literal, pattern, start));
                        output.Append(Emit(set));
                        break;
                    }
                case '.':
                    i++;
                    output.Append("[^\\n]");
                    break;
                case '(' when i + 3 < pattern.Length && pattern[i + 1] == '?' && pattern[i + 2] == '<' && pattern[i + 3] is '=' or '!':
                    throw Unsupported(pattern, i, "lookbehind '(?<='/'(?<!'");
                case '(':
                    {
                        scopes.Push(ignoreCase);
                        if (i + 1 < pattern.Length && pattern[i + 1] == '?')
                        {
                            var flagsEnd = i + 2;
                            while (flagsEnd < pattern.Length && pattern[flagsEnd] is 'i' or '-' or 'm' or 'x') flagsEnd++;
                            var flags = pattern[(i + 2)..flagsEnd];
                            if (flagsEnd >= pattern.Length) throw Unsupported(pattern, i, "an unterminated group");
                            if (flags.Length == 0)
                            {
                                if (pattern[flagsEnd] is not (':' or '=' or '!'))
                                    throw Unsupported(pattern, i, $"the group '(?{pattern[flagsEnd]}'");
                                output.Append(pattern, i, 3); // (?: (?= (?!
                                i += 3;
                                break;
                            }
                            if (pattern[flagsEnd] is not (':' or ')')) throw Unsupported(pattern, i, $"the group '(?{flags}{pattern[flagsEnd]}'");
                            if (flags.Contains('m') || flags.Contains('x'))
                                throw Unsupported(pattern, i, $"the flags '(?{flags}' (only 'i' means the same in both engines)");
                            var on = flags.Split('-')[0].Contains('i');
                            if (pattern[flagsEnd] == ')') scopes.Pop(); // "(?i)" sets the flag for the rest of the enclosing group
                            ignoreCase = on;
                            output.Append(pattern, i, flagsEnd + 1 - i);
                            i = flagsEnd + 1;
                            break;
                        }
                        output.Append(c);
                        i++;
                        break;
                    }
                case ')':
                    ignoreCase = scopes.Count > 0 ? scopes.Pop() : throw Unsupported(pattern, i, "an unbalanced ')'");
                    output.Append(c);
                    i++;
                    break;
                case '^' or '$':
                    // Oniguruma's Ruby syntax makes these line anchors; .NET's '$' also matches before a final '\n'.
                    throw Unsupported(pattern, i, $"the anchor '{c}'");
                default:
                    if (char.IsSurrogate(c)) throw Unsupported(pattern, i, "a literal outside the BMP");
                    if (ignoreCase && char.IsLetter(c))
                    {
                        var equivalents = CaseEquivalents(c);
                        literals.AddRange(equivalents.Select(e => new LiteralRange(e, e)));
                        output.Append('[').Append(string.Concat(equivalents.Select(e => EmitLiteral(e)))).Append(']');
                    }
                    else
                    {
                        if (c is not ('?' or '*' or '+' or '{' or '}' or '|')) literals.Add(new LiteralRange(c, c));
                        output.Append(c); // alternation, quantifiers and BMP literals mean the same
                    }
                    i++;
                    break;
            }
        }
        return output.ToString();
    }

    /// <summary>BMP characters that Unicode simple case folding makes equal to <paramref name="letter"/>.</summary>
    static List<char> CaseEquivalents(char letter)
    {
        var upper = char.ToUpperInvariant(letter);
        var lower = char.ToLowerInvariant(letter);
        var equivalents = new List<char>();
        for (var c = 0; c <= 0xFFFF; c++)
        {
            if (c is >= 0xD800 and <= 0xDFFF) continue;
            var d = (char)c;
            if (d == letter || char.ToUpperInvariant(d) == upper || char.ToLowerInvariant(d) == lower) equivalents.Add(d);
        }
        return equivalents;
    }

    static LiteralRange Bmp(LiteralRange literal, string pattern, int offset) =>
        literal.High > 0xFFFF ? throw Unsupported(pattern, offset, "a literal outside the BMP") : literal;

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

    static string EmitLiteral(int codePoint) =>
        char.IsAsciiLetterOrDigit((char)codePoint) ? ((char)codePoint).ToString() : $"\\u{codePoint:X4}";

    static string Emit(CharSet set)
    {
        var items = string.Concat(set.Items.Select(item => item.BmpSyntax));
        return set.Negated ? $"[^{items}]" : $"[{items}]";
    }
}

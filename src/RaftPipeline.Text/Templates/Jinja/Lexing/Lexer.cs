using System.Globalization;
using System.Text;

namespace RaftPipeline.Text.Templates.Jinja.Lexing;

/// <summary>
/// Splits template text into tokens the way jinja2 3.1's lexer does with the settings transformers uses
/// (trim_blocks, lstrip_blocks, keep_trailing_newline off): line endings are normalised to \n first and one
/// trailing newline is dropped; <c>{%-</c>/<c>-%}</c> strip all whitespace; <c>{%+</c>/<c>+%}</c> switch off
/// lstrip/trim for that tag; comments vanish; <c>{% raw %}</c> content is data.
/// </summary>
public sealed class Lexer
{
    readonly string _src;
    readonly string _name;
    readonly List<int> _lineStarts = [0];
    readonly List<Token> _tokens = [];
    int _pos;
    // jinja2: "line_starting" is whether the text just before the current data began at a line start,
    // i.e. the previous match ended in a newline (a trimmed block end). Needed for lstrip_blocks.
    bool _lineStarting = true;

    Lexer(string source, string name)
    {
        _src = NormalizeNewlines(source);
        _name = name;
        for (var i = 0; i < _src.Length; i++)
            if (_src[i] == '\n') _lineStarts.Add(i + 1);
    }

    public static IReadOnlyList<Token> Tokenize(string source, string sourceName)
    {
        var lexer = new Lexer(source, sourceName);
        lexer.Run();
        return lexer._tokens;
    }

    /// <summary>jinja2 splits on \r\n, \r and \n, drops one trailing empty line, and joins with \n.</summary>
    internal static string NormalizeNewlines(string source)
    {
        var sb = new StringBuilder(source.Length);
        for (var i = 0; i < source.Length; i++)
        {
            var c = source[i];
            if (c == '\r')
            {
                if (i + 1 < source.Length && source[i + 1] == '\n') i++;
                sb.Append('\n');
            }
            else sb.Append(c);
        }
        if (sb.Length > 0 && sb[^1] == '\n') sb.Length--;
        return sb.ToString();
    }

    (int Line, int Column) Where(int pos)
    {
        var idx = _lineStarts.BinarySearch(pos);
        if (idx < 0) idx = ~idx - 1;
        return (idx + 1, pos - _lineStarts[idx] + 1);
    }

    TemplateSyntaxException Error(string detail, int pos)
    {
        var (line, col) = Where(pos);
        return new TemplateSyntaxException(detail, _name, line, col);
    }

    void Emit(TokenKind kind, string value, int pos)
    {
        var (line, col) = Where(pos);
        _tokens.Add(new Token(kind, value, line, col));
    }

    void Run()
    {
        while (_pos < _src.Length)
        {
            var tag = FindNextTag(_pos);
            if (tag < 0)
            {
                Emit(TokenKind.Data, _src[_pos..], _pos);
                _pos = _src.Length;
                break;
            }
            var opener = _src[tag + 1]; // '{', '%' or '#'
            var signPos = tag + 2;
            var sign = signPos < _src.Length && (_src[signPos] == '-' || _src[signPos] == '+') ? _src[signPos] : '\0';
            var rawEnd = opener == '%' ? MatchRawBegin(tag) : -1;

            var text = _src[_pos..tag];
            if (sign == '-') text = RStripPython(text);
            else if (sign != '+' && opener != '{') text = LStripBlock(text);
            if (text.Length > 0) Emit(TokenKind.Data, text, _pos);

            if (rawEnd >= 0) { LexRaw(rawEnd); continue; }
            var afterOpener = tag + 2 + (sign == '\0' ? 0 : 1);
            switch (opener)
            {
                case '#': LexComment(tag, afterOpener); break;
                case '%': Emit(TokenKind.BlockBegin, "{%", tag); LexInside(afterOpener, block: true); break;
                default: Emit(TokenKind.VariableBegin, "{{", tag); LexInside(afterOpener, block: false); break;
            }
        }
        Emit(TokenKind.Eof, "", _src.Length);
    }

    int FindNextTag(int from)
    {
        for (var i = from; i + 1 < _src.Length; i++)
            if (_src[i] == '{' && (_src[i + 1] == '{' || _src[i + 1] == '%' || _src[i + 1] == '#')) return i;
        return -1;
    }

    /// <summary>lstrip_blocks: spaces/tabs between the last newline (or a line start) and a block/comment tag go.</summary>
    string LStripBlock(string text)
    {
        var lPos = text.LastIndexOf('\n') + 1;
        if (lPos > 0 || _lineStarting)
        {
            // jinja2 uses whitespace_re.fullmatch(text, l_pos) with \s+: only whitespace, at least one char.
            if (lPos < text.Length && text.AsSpan(lPos).ToString().All(IsRegexSpace)) return text[..lPos];
        }
        return text;
    }

    /// <summary>Python's re \s in str patterns: Unicode whitespace, the same set str.isspace() accepts.</summary>
    internal static bool IsRegexSpace(char c) => char.IsWhiteSpace(c) || (c >= '\x1c' && c <= '\x1f');

    internal static string RStripPython(string s)
    {
        var end = s.Length;
        while (end > 0 && IsRegexSpace(s[end - 1])) end--;
        return s[..end];
    }

    bool At(int p, string text) =>
        p >= 0 && p + text.Length <= _src.Length && string.CompareOrdinal(_src, p, text, 0, text.Length) == 0;

    int SkipRegexSpace(int p)
    {
        while (p < _src.Length && IsRegexSpace(_src[p])) p++;
        return p;
    }

    /// <summary>Matches <c>{%[-+]? raw [-]?%}</c> at <paramref name="tag"/>; returns the position after it, or -1.</summary>
    int MatchRawBegin(int tag)
    {
        var p = tag + 2;
        if (p < _src.Length && (_src[p] == '-' || _src[p] == '+')) p++;
        p = SkipRegexSpace(p);
        if (!At(p, "raw")) return -1;
        p = SkipRegexSpace(p + 3);
        // jinja2's raw-begin rule has no trim_blocks newline: only "-%}\s*" or "%}".
        if (At(p, "-%}")) return SkipRegexSpace(p + 3);
        if (At(p, "%}")) return p + 2;
        return -1;
    }

    void LexRaw(int start)
    {
        // Find "{%[-+]? endraw (+%}|-%}\s*|%}\n?)".
        for (var i = start; i + 1 < _src.Length; i++)
        {
            if (_src[i] != '{' || _src[i + 1] != '%') continue;
            var p = i + 2;
            var sign = p < _src.Length && (_src[p] == '-' || _src[p] == '+') ? _src[p] : '\0';
            if (sign != '\0') p++;
            p = SkipRegexSpace(p);
            if (!At(p, "endraw")) continue;
            p = SkipRegexSpace(p + 6);
            int end;
            if (At(p, "+%}")) end = p + 3;
            else if (At(p, "-%}")) end = SkipRegexSpace(p + 3);
            else if (At(p, "%}"))
            {
                end = p + 2;
                if (end < _src.Length && _src[end] == '\n') end++;
            }
            else continue;
            var text = _src[start..i];
            if (sign == '-') text = RStripPython(text);
            else if (sign != '+')
            {
                _lineStarting = start > 0 && _src[start - 1] == '\n';
                text = LStripBlock(text);
            }
            if (text.Length > 0) Emit(TokenKind.Data, text, start);
            _pos = end;
            _lineStarting = _src[end - 1] == '\n';
            return;
        }
        throw Error("Missing end of raw directive", start);
    }

    void LexComment(int tag, int contentStart)
    {
        var close = _src.IndexOf("#}", contentStart, StringComparison.Ordinal);
        if (close < 0) throw Error("Missing end of comment tag", tag);
        var end = close + 2;
        var before = close - 1 >= contentStart ? _src[close - 1] : '\0';
        if (before == '-') end = SkipRegexSpace(end);
        else if (before != '+' && end < _src.Length && _src[end] == '\n') end++; // trim_blocks applies to comments
        _pos = end;
        _lineStarting = _src[end - 1] == '\n';
    }

    void LexInside(int p, bool block)
    {
        var balance = new Stack<char>();
        var startTag = p - 2;
        while (true)
        {
            if (p >= _src.Length)
                throw Error(block ? "unexpected end of template, expected end of statement block ('%}')"
                                  : "unexpected end of template, expected end of print statement ('}}')", startTag);
            if (balance.Count == 0 && TryMatchEnd(p, block, out var end))
            {
                Emit(block ? TokenKind.BlockEnd : TokenKind.VariableEnd, block ? "%}" : "}}", p);
                _pos = end;
                _lineStarting = _src[end - 1] == '\n';
                return;
            }
            var c = _src[p];
            if (IsRegexSpace(c)) { p++; continue; }
            if (char.IsAsciiDigit(c) && (p == 0 || _src[p - 1] != '.') && TryLexNumber(ref p)) continue;
            if (char.IsAsciiDigit(c) && TryLexNumber(ref p, allowFloat: false)) continue;
            if (char.IsLetter(c) || c == '_')
            {
                var s = p;
                while (p < _src.Length && (char.IsLetterOrDigit(_src[p]) || _src[p] == '_')) p++;
                Emit(TokenKind.Name, _src[s..p], s);
                continue;
            }
            if (c == '\'' || c == '"') { p = LexString(p); continue; }
            var op = MatchOperator(p);
            if (op is null) throw Error($"unexpected char '{c}' at {p}", p);
            if (op is "(" or "[" or "{") balance.Push(op[0]);
            else if (op is ")" or "]" or "}")
            {
                if (balance.Count == 0) throw Error($"unexpected '{op}'", p);
                var open = balance.Pop();
                var expected = open switch { '(' => ')', '[' => ']', _ => '}' };
                if (op[0] != expected) throw Error($"unexpected '{op}', expected '{expected}'", p);
            }
            Emit(TokenKind.Operator, op, p);
            p += op.Length;
        }
    }

    bool TryMatchEnd(int p, bool block, out int end)
    {
        end = -1;
        var closer = block ? "%}" : "}}";
        if (_src[p] == '-' && At(p + 1, closer))
        {
            end = SkipRegexSpace(p + 3);
            return true;
        }
        if (block && _src[p] == '+' && At(p + 1, closer))
        {
            end = p + 3;
            return true;
        }
        if (At(p, closer))
        {
            end = p + 2;
            if (block && end < _src.Length && _src[end] == '\n') end++; // trim_blocks
            return true;
        }
        return false;
    }

    static readonly string[] Operators =
        ["//", "**", "==", "!=", ">=", "<=", "+", "-", "/", "*", "%", "~", "[", "]", "(", ")", "{", "}", ">", "<", "=", ".", ":", "|", ",", ";"];

    string? MatchOperator(int p)
    {
        foreach (var op in Operators)
            if (At(p, op)) return op;
        return null;
    }

    // Digits with single underscores between them, as jinja2's (\d+_)*\d+.
    int ScanDigits(int p, Func<char, bool> isDigit)
    {
        if (p >= _src.Length || !isDigit(_src[p])) return -1;
        while (true)
        {
            while (p < _src.Length && isDigit(_src[p])) p++;
            if (p + 1 < _src.Length && _src[p] == '_' && isDigit(_src[p + 1])) { p++; continue; }
            return p;
        }
    }

    bool TryLexNumber(ref int p, bool allowFloat = true)
    {
        var s = p;
        var intEnd = ScanDigits(p, char.IsAsciiDigit);
        if (allowFloat)
        {
            // float: digits ( (.digits)? e[+-]?digits | .digits )
            var q = intEnd;
            var hasFraction = false;
            if (q + 1 < _src.Length && _src[q] == '.' && char.IsAsciiDigit(_src[q + 1]))
            {
                q = ScanDigits(q + 1, char.IsAsciiDigit);
                hasFraction = true;
            }
            var hasExp = false;
            if (q < _src.Length && (_src[q] == 'e' || _src[q] == 'E'))
            {
                var r = q + 1;
                if (r < _src.Length && (_src[r] == '+' || _src[r] == '-')) r++;
                var expEnd = ScanDigits(r, char.IsAsciiDigit);
                if (expEnd > 0) { q = expEnd; hasExp = true; }
            }
            if (hasFraction || hasExp)
            {
                Emit(TokenKind.Float, _src[s..q].Replace("_", ""), s);
                p = q;
                return true;
            }
        }
        // integer: 0b.., 0o.., 0x.., [1-9](_?\d)*, 0(_?0)*
        if (_src[s] == '0' && s + 1 < _src.Length && "bBoOxX".Contains(_src[s + 1]))
        {
            Func<char, bool> isDigit = char.ToLowerInvariant(_src[s + 1]) switch
            {
                'b' => ch => ch is '0' or '1',
                'o' => ch => ch is >= '0' and <= '7',
                _ => char.IsAsciiHexDigit,
            };
            var q = s + 2;
            var any = false;
            while (true)
            {
                if (q < _src.Length && _src[q] == '_' && q + 1 < _src.Length && isDigit(_src[q + 1])) q++;
                if (q < _src.Length && isDigit(_src[q])) { q++; any = true; continue; }
                break;
            }
            if (any)
            {
                Emit(TokenKind.Integer, _src[s..q].Replace("_", ""), s);
                p = q;
                return true;
            }
        }
        if (_src[s] == '0')
        {
            // "0(_?0)*": a leading zero followed by other digits is not a number in jinja2.
            var q = s + 1;
            while (q < _src.Length && (_src[q] == '0' || (_src[q] == '_' && q + 1 < _src.Length && _src[q + 1] == '0'))) q++;
            Emit(TokenKind.Integer, "0", s);
            p = q;
            return true;
        }
        Emit(TokenKind.Integer, _src[s..intEnd].Replace("_", ""), s);
        p = intEnd;
        return true;
    }

    int LexString(int p)
    {
        var quote = _src[p];
        var i = p + 1;
        while (i < _src.Length && _src[i] != quote)
        {
            if (_src[i] == '\\') i++;
            i++;
        }
        if (i >= _src.Length) throw Error($"unexpected char '{quote}' at {p}", p);
        Emit(TokenKind.String, Unescape(_src[(p + 1)..i], p), p);
        return i + 1;
    }

    /// <summary>Python's "unicode-escape" decoding, which jinja2 applies to string literals.</summary>
    string Unescape(string body, int pos)
    {
        if (!body.Contains('\\')) return body;
        var sb = new StringBuilder(body.Length);
        for (var i = 0; i < body.Length; i++)
        {
            var c = body[i];
            if (c != '\\' || i + 1 >= body.Length)
            {
                if (c == '\\') throw Error("\\ at end of string", pos);
                sb.Append(c);
                continue;
            }
            var e = body[++i];
            switch (e)
            {
                case '\n': break; // line continuation
                case '\\': sb.Append('\\'); break;
                case '\'': sb.Append('\''); break;
                case '"': sb.Append('"'); break;
                case 'a': sb.Append('\a'); break;
                case 'b': sb.Append('\b'); break;
                case 'f': sb.Append('\f'); break;
                case 'n': sb.Append('\n'); break;
                case 'r': sb.Append('\r'); break;
                case 't': sb.Append('\t'); break;
                case 'v': sb.Append('\v'); break;
                case 'x': sb.Append(HexEscape(body, ref i, 2, pos)); break;
                case 'u': sb.Append(HexEscape(body, ref i, 4, pos)); break;
                case 'U': sb.Append(HexEscape(body, ref i, 8, pos)); break;
                case 'N': throw Error("\\N{...} escapes in string literals are not supported", pos);
                case >= '0' and <= '7':
                    {
                        var v = e - '0';
                        var n = 1;
                        while (n < 3 && i + 1 < body.Length && body[i + 1] is >= '0' and <= '7') { v = v * 8 + (body[++i] - '0'); n++; }
                        sb.Append(char.ConvertFromUtf32(v));
                        break;
                    }
                default: sb.Append('\\').Append(e); break; // Python keeps unknown escapes as written
            }
        }
        return sb.ToString();
    }

    string HexEscape(string body, ref int i, int digits, int pos)
    {
        var hex = body.Substring(i + 1, Math.Min(digits, body.Length - i - 1));
        if (hex.Length != digits || !hex.All(char.IsAsciiHexDigit))
            throw Error($"truncated \\{body[i]} escape in string literal", pos);
        i += digits;
        var cp = int.Parse(hex, NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        if (cp > 0x10FFFF) throw Error("illegal Unicode character in string literal", pos);
        return cp is >= 0xD800 and <= 0xDFFF ? ((char)cp).ToString() : char.ConvertFromUtf32(cp);
    }
}

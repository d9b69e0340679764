using System.Globalization;
using System.Numerics;

namespace RaftPipeline.Text.Templates.Jinja.Runtime;

/// <summary>Python's numeric conversions and round(), exact where CPython is exact.</summary>
public static class PyMath
{
    /// <summary>
    /// CPython's round(x, ndigits): round half to even on the exact binary value of x, then the nearest double.
    /// Math.Round(x, n) scales by 10^n first and can land on the other side of a tie (2.675 → 2.68).
    /// </summary>
    public static double Round(double x, long ndigits)
    {
        if (double.IsNaN(x) || double.IsInfinity(x) || x == 0) return x;
        if (ndigits > 400) return x;
        if (ndigits < -400) return Math.CopySign(0.0, x);
        var bits = BitConverter.DoubleToInt64Bits(Math.Abs(x));
        var exponent = (int)((bits >> 52) & 0x7FF);
        var mantissa = bits & 0xFFFFFFFFFFFFFL;
        if (exponent == 0) exponent = 1; else mantissa |= 1L << 52;
        exponent -= 1075; // |x| = mantissa × 2^exponent
        BigInteger num = mantissa, den = BigInteger.One;
        if (exponent >= 0) num <<= exponent; else den <<= -exponent;
        var k = (int)Math.Abs(ndigits);
        if (ndigits >= 0) num *= BigInteger.Pow(10, k); else den *= BigInteger.Pow(10, k);
        var q = BigInteger.DivRem(num, den, out var r);
        var twice = r * 2;
        if (twice > den || (twice == den && !q.IsEven)) q += 1;
        var text = ndigits >= 0 ? $"{q}E-{k}" : $"{q}E{k}";
        var result = double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);
        return Math.CopySign(result, x);
    }

    /// <summary>Python float(str): surrounding whitespace, underscores between digits, inf/nan spellings.</summary>
    public static bool TryParseFloat(string s, out double value)
    {
        var t = s.Trim().ToLowerInvariant();
        var sign = 1.0;
        var body = t;
        if (body.StartsWith('+') || body.StartsWith('-'))
        {
            sign = body[0] == '-' ? -1 : 1;
            body = body[1..];
        }
        if (body is "inf" or "infinity") { value = sign * double.PositiveInfinity; return true; }
        if (body == "nan") { value = double.NaN; return true; }
        if (!ValidUnderscores(body) || body.Length == 0 || !(char.IsAsciiDigit(body[0]) || body[0] == '.'))
        {
            value = 0;
            return false;
        }
        return double.TryParse(t.Replace("_", ""), NumberStyles.Float, CultureInfo.InvariantCulture, out value);
    }

    /// <summary>Python int(str, base 10).</summary>
    public static bool TryParseInt(string s, out long value)
    {
        var t = s.Trim();
        value = 0;
        var body = t.StartsWith('+') || t.StartsWith('-') ? t[1..] : t;
        if (body.Length == 0 || !body.All(c => char.IsAsciiDigit(c) || c == '_') || !ValidUnderscores(body)) return false;
        return long.TryParse(t.Replace("_", ""), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value);
    }

    static bool ValidUnderscores(string s)
    {
        for (var i = 0; i < s.Length; i++)
            if (s[i] == '_' && (i == 0 || i == s.Length - 1 || !char.IsAsciiDigit(s[i - 1]) || !char.IsAsciiDigit(s[i + 1])))
                return false;
        return true;
    }
}

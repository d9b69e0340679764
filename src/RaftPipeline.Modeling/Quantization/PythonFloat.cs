using System.Globalization;

namespace RaftPipeline.Modeling.Quantization;

/// <summary>
/// Formats a double the way Python's repr/json.dumps does: the shortest round-trip digits (which .NET's "R" also
/// gives), positional when the decimal exponent is in [-4, 16), else "1e-05"/"1e+16" style, and a trailing ".0" on
/// integral values. So JSON we pack matches what bitsandbytes would have written.
/// </summary>
public static class PythonFloat
{
    public static string Repr(double value)
    {
        if (double.IsNaN(value)) return "NaN";
        if (double.IsPositiveInfinity(value)) return "Infinity";
        if (double.IsNegativeInfinity(value)) return "-Infinity";
        if (value == 0) return double.IsNegative(value) ? "-0.0" : "0.0";

        var s = value.ToString("R", CultureInfo.InvariantCulture);
        bool negative = s.StartsWith('-');
        s = s.TrimStart('-');
        // Normalize to significant digits d1d2d3... and the decimal exponent of d1.
        int exponent = 0;
        int e = s.IndexOf('E');
        if (e >= 0)
        {
            exponent = int.Parse(s[(e + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
            s = s[..e];
        }
        int point = s.IndexOf('.');
        string intPart = point < 0 ? s : s[..point];
        string fracPart = point < 0 ? "" : s[(point + 1)..];
        string all = intPart + fracPart;
        int leadingZeros = all.Length - all.TrimStart('0').Length;
        string digits = all.TrimStart('0').TrimEnd('0');
        int decimalExponent = exponent + intPart.Length - 1 - leadingZeros;

        string body;
        if (decimalExponent < -4 || decimalExponent >= 16)
        {
            body = digits[..1] + (digits.Length > 1 ? "." + digits[1..] : "")
                   + "e" + (decimalExponent < 0 ? "-" : "+") + Math.Abs(decimalExponent).ToString("00", CultureInfo.InvariantCulture);
        }
        else if (decimalExponent >= 0)
        {
            var padded = digits.PadRight(decimalExponent + 1, '0');
            var fraction = padded[(decimalExponent + 1)..];
            body = padded[..(decimalExponent + 1)] + "." + (fraction.Length == 0 ? "0" : fraction);
        }
        else
        {
            body = "0." + new string('0', -decimalExponent - 1) + digits;
        }
        return (negative ? "-" : "") + body;
    }
}

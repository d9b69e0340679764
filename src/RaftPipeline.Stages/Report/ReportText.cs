using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace RaftPipeline.Stages.Report;

/// <summary>How the report writes numbers, durations and values: invariant culture, short, the same in both files.</summary>
internal static class ReportText
{
    public const string Missing = "—";

    /// <summary>Up to four decimals in the usual range; scientific outside it (learning rates such as 1e-4).</summary>
    public static string Number(double v)
    {
        if (double.IsNaN(v) || double.IsInfinity(v)) return v.ToString(CultureInfo.InvariantCulture);
        if (v == 0) return "0";
        var a = Math.Abs(v);
        return a is >= 1e-3 and < 1e7
            ? v.ToString("0.####", CultureInfo.InvariantCulture)
            : v.ToString("0.###e+0", CultureInfo.InvariantCulture);
    }

    public static string Number(double? v) => v is { } x ? Number(x) : Missing;

    /// <summary>A share in [0, 1] as a percentage with one decimal.</summary>
    public static string Percent(double v) => (v * 100).ToString("0.0", CultureInfo.InvariantCulture) + "%";

    /// <summary>An eval metric: the <c>*_rate</c> ones as percentages, the rest (loss) as numbers.</summary>
    public static string Metric(string name, double? v) =>
        v is not { } x ? Missing : name.EndsWith("_rate", StringComparison.Ordinal) ? Percent(x) : Number(x);

    public static string Duration(double seconds)
    {
        if (seconds < 60) return seconds.ToString("0.0", CultureInfo.InvariantCulture) + " s";
        var t = TimeSpan.FromSeconds(Math.Round(seconds));
        return t.TotalHours >= 1
            ? $"{(int)t.TotalHours} h {t.Minutes:00} min"
            : $"{t.Minutes} min {t.Seconds:00} s";
    }

    public static string Count(long? n) => n?.ToString(CultureInfo.InvariantCulture) ?? Missing;

    /// <summary>A JSON scalar as text: numbers through <see cref="Number(double)"/>, strings as they are.</summary>
    public static string Json(JsonNode? node) => node switch
    {
        null => Missing,
        JsonValue v => v.GetValueKind() switch
        {
            JsonValueKind.Number => Number(v.GetValue<double>()),
            JsonValueKind.String => v.GetValue<string>(),
            JsonValueKind.True => "true",
            JsonValueKind.False => "false",
            _ => Missing,
        },
        _ => node.ToJsonString(),
    };

    public static string Time(DateTime utc) => utc.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture);

    /// <summary>The first 12 hex digits of a key, as the console shows them.</summary>
    public static string ShortKey(string? key) => key is null ? Missing : key.Length > 12 ? key[..12] : key;

    /// <summary>Escapes text for HTML element content and quoted attribute values; everything else (Korean) stays as is.</summary>
    public static string Html(string? text)
    {
        if (string.IsNullOrEmpty(text)) return "";
        var b = new StringBuilder(text.Length + 16);
        foreach (var c in text)
            b.Append(c switch
            {
                '&' => "&amp;",
                '<' => "&lt;",
                '>' => "&gt;",
                '"' => "&quot;",
                '\'' => "&#39;",
                _ => c.ToString(),
            });
        return b.ToString();
    }

    /// <summary>
    /// Text for a Markdown table cell: HTML-significant characters and pipes escaped, line breaks as &lt;br&gt;
    /// (GitHub renders both), so model output cannot break the table or inject markup.
    /// </summary>
    public static string MarkdownCell(string? text) =>
        MarkupEscape(text).Replace("|", "\\|").Replace("\r\n", "\n").Replace("\n", "<br>");

    /// <summary>Inline Markdown text (notes, headings): HTML-significant characters escaped, lines joined.</summary>
    public static string MarkdownInline(string? text) => MarkupEscape(text).Replace("\r\n", " ").Replace('\n', ' ');

    /// <summary>Markdown passes inline HTML through: escape what starts markup or an entity; quotes are harmless there.</summary>
    static string MarkupEscape(string? text) => (text ?? "").Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;");

    /// <summary>A fenced code block whose fence is longer than any backtick run inside <paramref name="text"/>.</summary>
    public static string MarkdownFence(string text, string language = "")
    {
        int longest = 0, run = 0;
        foreach (var c in text)
        {
            run = c == '`' ? run + 1 : 0;
            longest = Math.Max(longest, run);
        }
        var fence = new string('`', Math.Max(3, longest + 1));
        return $"{fence}{language}\n{text.TrimEnd('\n')}\n{fence}\n";
    }
}

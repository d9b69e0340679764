using System.Globalization;
using System.Text;

namespace RaftPipeline.Stages.Report;

/// <summary>One line of a chart: points in data units, drawn in <see cref="Color"/> (a CSS colour).</summary>
/// <param name="Markers">Draw a dot at every point (sparse series such as eval_loss).</param>
public sealed record ChartSeries(string Name, string Color, IReadOnlyList<(double X, double Y)> Points, bool Markers = false);

/// <summary>
/// A line chart as inline SVG: axes with "nice" ticks (1, 2, 5 × 10^k), light grid, one polyline per series and a
/// legend. Drawn here rather than as a PNG so the HTML stays one self-contained file whose text is real text.
/// </summary>
public static class SvgLineChart
{
    const int Left = 72, Right = 16, Top = 34, Bottom = 46;

    public static string Render(string title, string xLabel, string yLabel, IReadOnlyList<ChartSeries> series, int width = 760, int height = 320)
    {
        var points = series.SelectMany(s => s.Points).Where(p => double.IsFinite(p.X) && double.IsFinite(p.Y)).ToList();
        if (points.Count == 0) throw new ArgumentException("no finite points to draw", nameof(series));
        var (x0, x1, xTicks) = Axis(points.Min(p => p.X), points.Max(p => p.X));
        var (y0, y1, yTicks) = Axis(points.Min(p => p.Y), points.Max(p => p.Y));
        double plotW = width - Left - Right, plotH = height - Top - Bottom;
        double X(double x) => Left + (x - x0) / (x1 - x0) * plotW;
        double Y(double y) => Top + plotH - (y - y0) / (y1 - y0) * plotH;

        var svg = new StringBuilder();
        svg.Append(Invariant($"<svg class=\"chart\" viewBox=\"0 0 {width} {height}\" width=\"{width}\" height=\"{height}\" role=\"img\" aria-label=\"{ReportText.Html(title)}\">\n"));
        svg.Append(Invariant($"<rect x=\"0\" y=\"0\" width=\"{width}\" height=\"{height}\" fill=\"#ffffff\"/>\n"));
        svg.Append(Invariant($"<text x=\"{width / 2}\" y=\"20\" text-anchor=\"middle\" class=\"chart-title\">{ReportText.Html(title)}</text>\n"));

        foreach (var t in yTicks)
        {
            svg.Append(Invariant($"<line x1=\"{Left}\" x2=\"{width - Right}\" y1=\"{Y(t):0.##}\" y2=\"{Y(t):0.##}\" stroke=\"#e9ecef\"/>"));
            svg.Append(Invariant($"<text x=\"{Left - 6}\" y=\"{Y(t) + 4:0.##}\" text-anchor=\"end\" class=\"tick\">{ReportText.Number(t)}</text>\n"));
        }
        foreach (var t in xTicks)
        {
            svg.Append(Invariant($"<line x1=\"{X(t):0.##}\" x2=\"{X(t):0.##}\" y1=\"{Top}\" y2=\"{Top + plotH}\" stroke=\"#f1f3f5\"/>"));
            svg.Append(Invariant($"<text x=\"{X(t):0.##}\" y=\"{Top + plotH + 16}\" text-anchor=\"middle\" class=\"tick\">{ReportText.Number(t)}</text>\n"));
        }
        svg.Append(Invariant($"<rect x=\"{Left}\" y=\"{Top}\" width=\"{plotW}\" height=\"{plotH}\" fill=\"none\" stroke=\"#868e96\"/>\n"));
        svg.Append(Invariant($"<text x=\"{Left + plotW / 2}\" y=\"{height - 8}\" text-anchor=\"middle\" class=\"axis-label\">{ReportText.Html(xLabel)}</text>\n"));
        svg.Append(Invariant($"<text transform=\"translate(16 {Top + plotH / 2}) rotate(-90)\" text-anchor=\"middle\" class=\"axis-label\">{ReportText.Html(yLabel)}</text>\n"));

        foreach (var s in series)
        {
            var finite = s.Points.Where(p => double.IsFinite(p.X) && double.IsFinite(p.Y)).OrderBy(p => p.X).ToList();
            if (finite.Count == 0) continue;
            var color = ReportText.Html(s.Color);
            if (finite.Count > 1)
            {
                var path = string.Join(" ", finite.Select(p => Invariant($"{X(p.X):0.##},{Y(p.Y):0.##}")));
                svg.Append(Invariant($"<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"2.5\" stroke-linejoin=\"round\" points=\"{path}\"/>\n"));
            }
            if (s.Markers || finite.Count == 1)
                foreach (var p in finite)
                    svg.Append(Invariant($"<circle cx=\"{X(p.X):0.##}\" cy=\"{Y(p.Y):0.##}\" r=\"4\" fill=\"{color}\"/>"));
        }

        // Legend: top right, inside the plot area.
        double ly = Top + 14;
        foreach (var s in series)
        {
            double lx = width - Right - 170;
            svg.Append(Invariant($"<line x1=\"{lx}\" x2=\"{lx + 22}\" y1=\"{ly - 4}\" y2=\"{ly - 4}\" stroke=\"{ReportText.Html(s.Color)}\" stroke-width=\"3\"/>"));
            svg.Append(Invariant($"<text x=\"{lx + 28}\" y=\"{ly}\" class=\"legend\">{ReportText.Html(s.Name)}</text>\n"));
            ly += 18;
        }
        svg.Append("</svg>");
        return svg.ToString();
    }

    /// <summary>The axis range widened to whole ticks of a 1-2-5 step, about five ticks in all.</summary>
    public static (double Min, double Max, IReadOnlyList<double> Ticks) Axis(double min, double max)
    {
        if (min == max)
        {
            // One value (a single log row): centre it in a range of ±10% (or ±1 around zero).
            var pad = min == 0 ? 1 : Math.Abs(min) * 0.1;
            (min, max) = (min - pad, max + pad);
        }
        var step = NiceStep((max - min) / 5);
        var lo = Math.Floor(min / step) * step;
        var hi = Math.Ceiling(max / step) * step;
        var ticks = new List<double>();
        for (int i = 0; lo + i * step <= hi + step / 2; i++)
            ticks.Add(Math.Round((lo + i * step) / step) * step);
        return (lo, hi, ticks);
    }

    static double NiceStep(double raw)
    {
        var magnitude = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        var f = raw / magnitude;
        return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * magnitude;
    }

    static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}

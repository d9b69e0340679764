using ScottPlot;

namespace RaftPipeline.Stages.Analyze;

/// <summary>
/// The notebook's token-length histogram with a density curve (seaborn <c>histplot(kde=True)</c>): numpy "auto" bins,
/// a Gaussian KDE with Scott's bandwidth scaled to counts (density · n · bin width), and max_seq_length as a
/// vertical line. Rendered with ScottPlot 5 (SkiaSharp), headless.
/// </summary>
public static class TokenHistogramPlot
{
    /// <param name="bins">Number of equal-width bins over [min, max]; null for numpy's "auto" rule.</param>
    public static void SavePng(string path, IReadOnlyList<int> lengths, int? maxSeqLength, int width = 900, int height = 540, int? bins = null)
    {
        if (lengths.Count == 0) throw new ArgumentException("no token lengths to plot", nameof(lengths));
        if (bins is < 1) throw new ArgumentOutOfRangeException(nameof(bins), bins, "at least one bin");
        var values = lengths.Select(l => (double)l).ToArray();
        var histogram = bins is int count && values.Min() < values.Max()
            ? HistogramBins.WithCount(values, values.Min(), values.Max(), count)
            : HistogramBins.Auto(values);
        var stats = TokenLengthStatistics.Compute(lengths, maxSeqLength);

        var plot = new Plot();
        var centers = Enumerable.Range(0, histogram.Counts.Length).Select(i => (histogram.Edges[i] + histogram.Edges[i + 1]) / 2).ToArray();
        var bars = plot.Add.Bars(centers, histogram.Counts.Select(c => (double)c).ToArray());
        foreach (var bar in bars.Bars)
        {
            bar.Size = histogram.Width;
            bar.FillColor = Colors.SteelBlue.WithAlpha(0.6);
            bar.LineColor = Colors.SteelBlue;
        }
        bars.LegendText = FormattableString.Invariant($"examples (mean {stats.Mean:0.0}, median {stats.Median:0.0}, p95 {stats.P95:0.0})");

        if (GaussianKde.TryCreate(values) is { } kde)
        {
            // Extend the curve three bandwidths past the data, as seaborn's default cut does.
            double from = values.Min() - 3 * kde.Bandwidth, to = values.Max() + 3 * kde.Bandwidth;
            var xs = Enumerable.Range(0, 200).Select(i => from + (to - from) * i / 199).ToArray();
            var ys = xs.Select(x => kde.Density(x) * values.Length * histogram.Width).ToArray();
            var curve = plot.Add.ScatterLine(xs, ys);
            curve.LineWidth = 2;
            curve.Color = Colors.DarkOrange;
            curve.LegendText = FormattableString.Invariant($"density (Gaussian KDE, Scott bw = {kde.Bandwidth:0.#})");
        }

        if (maxSeqLength is int max)
        {
            var line = plot.Add.VerticalLine(max);
            line.Color = Colors.Crimson;
            line.LinePattern = LinePattern.Dashed;
            line.LegendText = $"max_seq_length = {max} ({stats.OverMaxSeqLength} rows above)";
        }

        plot.Title($"Token lengths (n = {stats.Count})");
        if (SansFont() is { } font) plot.Font.Set(font);
        plot.XLabel("tokens per example");
        plot.YLabel("examples");
        plot.Axes.Margins(bottom: 0);
        plot.ShowLegend(Alignment.UpperRight);
        plot.SavePng(path, width, height);
    }

    /// <summary>
    /// Skia's default face on Debian is DejaVu Serif (the first family it finds); prefer a sans face when one is
    /// installed (Debian: fonts-dejavu-core or fonts-liberation). Without any font the text is simply not drawn.
    /// </summary>
    private static string? SansFont()
    {
        var installed = SkiaSharp.SKFontManager.Default.FontFamilies.ToHashSet(StringComparer.OrdinalIgnoreCase);
        return new[] { "DejaVu Sans", "Liberation Sans", "Noto Sans" }.FirstOrDefault(installed.Contains);
    }
}

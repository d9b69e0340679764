namespace RaftPipeline.Stages.Analyze;

/// <summary>Equal-width histogram bins: edges and counts.</summary>
public sealed record HistogramBins(double[] Edges, int[] Counts)
{
    public double Width => Edges[1] - Edges[0];

    /// <summary>
    /// numpy's <c>bins="auto"</c> (what seaborn's histplot uses): the smaller of the Freedman–Diaconis and Sturges
    /// widths (Sturges alone when the interquartile range is 0), over [min, max] (±0.5 when all values are equal).
    /// </summary>
    public static HistogramBins Auto(IReadOnlyList<double> values)
    {
        if (values.Count == 0) throw new ArgumentException("no values", nameof(values));
        var sorted = values.Order().ToArray();
        double first = sorted[0], last = sorted[^1];
        // numpy takes the width from the data's own range (0 when all values are equal → one bin)...
        double sturges = (last - first) / (Math.Log2(sorted.Length) + 1);
        double iqr = NumpyPercentile.Of(sorted, 75) - NumpyPercentile.Of(sorted, 25);
        double fd = 2 * iqr * Math.Pow(sorted.Length, -1.0 / 3);
        double width = fd > 0 ? Math.Min(fd, sturges) : sturges;
        // ...and the edges from [min, max], widened to ±0.5 when that is empty.
        if (first == last) (first, last) = (first - 0.5, last + 0.5);
        int count = width > 0 ? Math.Max(1, (int)Math.Ceiling((last - first) / width)) : 1;
        return WithCount(sorted, first, last, count);
    }

    public static HistogramBins WithCount(IReadOnlyList<double> values, double first, double last, int count)
    {
        var edges = Enumerable.Range(0, count + 1).Select(i => first + (last - first) * i / count).ToArray();
        var counts = new int[count];
        foreach (var v in values)
        {
            // Half-open bins [e_i, e_i+1), the last one closed, as numpy.histogram.
            int bin = (int)Math.Floor((v - first) / (last - first) * count);
            counts[Math.Clamp(bin, 0, count - 1)]++;
        }
        return new HistogramBins(edges, counts);
    }
}

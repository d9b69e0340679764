namespace RaftPipeline.Stages.Analyze;

/// <summary>
/// <c>numpy.percentile(a, q)</c> with numpy's default method "linear" (Hyndman &amp; Fan type 7): the value at
/// virtual index (n - 1) · q / 100 of the sorted data, interpolated between its neighbours with numpy's own lerp.
/// </summary>
public static class NumpyPercentile
{
    /// <param name="sorted">Ascending values; not empty.</param>
    /// <param name="q">Percentile in [0, 100].</param>
    public static double Of(IReadOnlyList<double> sorted, double q)
    {
        if (sorted.Count == 0) throw new ArgumentException("no values", nameof(sorted));
        if (q is < 0 or > 100) throw new ArgumentOutOfRangeException(nameof(q), q, "a percentile is in [0, 100]");
        // numpy divides q by 100 first, then multiplies by (n - 1): keep that order for the same rounding.
        double virtualIndex = (sorted.Count - 1) * (q / 100.0);
        int below = (int)Math.Floor(virtualIndex);
        int above = Math.Min(below + 1, sorted.Count - 1);
        return Lerp(sorted[below], sorted[above], virtualIndex - below);
    }

    /// <summary>numpy's <c>_lerp</c>: from the nearer end, so t = 1 gives b exactly.</summary>
    private static double Lerp(double a, double b, double t)
    {
        double diff = b - a;
        return t >= 0.5 ? b - diff * (1 - t) : a + diff * t;
    }
}

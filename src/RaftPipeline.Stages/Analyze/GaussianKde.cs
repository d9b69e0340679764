namespace RaftPipeline.Stages.Analyze;

/// <summary>
/// One-dimensional Gaussian kernel density estimate with Scott's rule, as <c>scipy.stats.gaussian_kde</c> (and so
/// seaborn's <c>kde=True</c>) computes it: bandwidth = n^(-1/5) · the sample standard deviation (ddof = 1, as
/// scipy's covariance).
/// </summary>
public sealed class GaussianKde
{
    private readonly double[] _points;

    public double Bandwidth { get; }

    private GaussianKde(double[] points, double bandwidth)
    {
        _points = points;
        Bandwidth = bandwidth;
    }

    /// <summary>The estimate, or null when it does not exist: fewer than two points or no spread (scipy raises then).</summary>
    public static GaussianKde? TryCreate(IReadOnlyList<double> points)
    {
        int n = points.Count;
        if (n < 2) return null;
        double mean = points.Average();
        double sampleVariance = points.Sum(x => (x - mean) * (x - mean)) / (n - 1);
        if (sampleVariance <= 0) return null;
        double bandwidth = Math.Pow(n, -1.0 / 5) * Math.Sqrt(sampleVariance);
        return new GaussianKde(points.ToArray(), bandwidth);
    }

    /// <summary>The density at <paramref name="x"/>: the mean of normal densities N(x; x_i, h²).</summary>
    public double Density(double x)
    {
        double sum = 0;
        foreach (var p in _points)
        {
            double z = (x - p) / Bandwidth;
            sum += Math.Exp(-0.5 * z * z);
        }
        return sum / (_points.Length * Bandwidth * Math.Sqrt(2 * Math.PI));
    }
}

using RaftPipeline.Stages.Analyze;

namespace RaftPipeline.Stages.Tests.Analyze;

public class GaussianKdeTests
{
    [Fact]
    public void Bandwidth_is_scotts_rule_on_the_sample_std()
    {
        // [1, 2, 3, 4, 10]: sample variance 50/4, Scott's factor 5^(-1/5).
        var kde = GaussianKde.TryCreate([1, 2, 3, 4, 10])!;
        Assert.Equal(Math.Pow(5, -0.2) * Math.Sqrt(12.5), kde.Bandwidth, 12);
    }

    [Fact]
    public void Density_is_the_mean_of_normal_densities_and_integrates_to_one()
    {
        // Two points 0 and 2: sample std sqrt(2), h = 2^(-1/5) sqrt(2). At x = 1 both kernels are at z = 1/h.
        var kde = GaussianKde.TryCreate([0, 2])!;
        double h = Math.Pow(2, -0.2) * Math.Sqrt(2);
        Assert.Equal(Math.Exp(-0.5 / (h * h)) / (h * Math.Sqrt(2 * Math.PI)), kde.Density(1), 12);

        double integral = 0, step = 0.01;
        for (double x = -20; x < 22; x += step) integral += kde.Density(x) * step;
        Assert.Equal(1.0, integral, 4);
    }

    [Fact]
    public void No_estimate_without_spread()
    {
        Assert.Null(GaussianKde.TryCreate([5, 5, 5]));
        Assert.Null(GaussianKde.TryCreate([5]));
    }

    [Fact]
    public void Auto_bins_follow_numpy()
    {
        // 1..100: Sturges width 99/(log2(100)+1) = 12.86; FD width 2 * 49.5 * 100^(-1/3) = 21.33 → Sturges, 8 bins.
        var bins = HistogramBins.Auto(Enumerable.Range(1, 100).Select(i => (double)i).ToArray());
        Assert.Equal(8, bins.Counts.Length);
        Assert.Equal(100, bins.Counts.Sum());
        Assert.Equal(1.0, bins.Edges[0]);
        Assert.Equal(100.0, bins.Edges[^1]);

        var same = HistogramBins.Auto([7, 7, 7]);
        Assert.Equal([6.5, 7.5], same.Edges);
        Assert.Equal([3], same.Counts);
    }
}

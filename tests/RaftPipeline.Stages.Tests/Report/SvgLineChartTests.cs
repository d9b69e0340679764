using RaftPipeline.Stages.Report;

namespace RaftPipeline.Stages.Tests.Report;

public class SvgLineChartTests
{
    [Theory]
    [InlineData(0.47, 2.93, 0.0, 3.0, 0.5)]
    [InlineData(2, 40, 0, 40, 10)]
    [InlineData(1e-6, 1e-4, 0, 1e-4, 2e-5)]
    public void Axes_widen_to_whole_ticks_of_a_1_2_5_step(double min, double max, double lo, double hi, double step)
    {
        var (a, b, ticks) = SvgLineChart.Axis(min, max);
        Assert.Equal(lo, a, 12);
        Assert.Equal(hi, b, 12);
        Assert.Equal(step, ticks[1] - ticks[0], 12);
        Assert.Equal(lo, ticks[0], 12);
        Assert.Equal(hi, ticks[^1], 12);
    }

    [Fact]
    public void A_single_point_gets_a_range_around_it_and_a_marker()
    {
        var (a, b, _) = SvgLineChart.Axis(0.5, 0.5);
        Assert.True(a < 0.5 && b > 0.5, $"{a}..{b}");
        var svg = SvgLineChart.Render("Loss", "step", "loss", [new ChartSeries("eval <loss>", "#e8590c", [(10, 0.5)])]);
        Assert.Contains("<circle", svg);
        Assert.DoesNotContain("<polyline", svg);
        Assert.Contains("eval &lt;loss&gt;", svg);
    }

    [Fact]
    public void Points_map_into_the_plot_area_with_larger_values_higher()
    {
        var svg = SvgLineChart.Render("t", "x", "y", [new ChartSeries("s", "#000", [(0, 0), (10, 1)])], width: 400, height: 200);
        var points = System.Text.RegularExpressions.Regex.Match(svg, "points=\"([^\"]*)\"").Groups[1].Value.Split(' ')
            .Select(p => p.Split(',').Select(v => double.Parse(v, System.Globalization.CultureInfo.InvariantCulture)).ToArray()).ToArray();
        Assert.True(points[0][0] < points[1][0], "x grows to the right");
        Assert.True(points[0][1] > points[1][1], "y grows upwards");
        Assert.All(points, p => Assert.InRange(p[0], 0, 400));
        Assert.All(points, p => Assert.InRange(p[1], 0, 200));
    }
}

using RaftPipeline.Stages.Report;
using RaftPipeline.Stages.Tests.TestSupport;
using SkiaSharp;

namespace RaftPipeline.Stages.Tests.Report;

/// <summary>Opens report.html in headless Chromium and checks the screenshot shows the page drawn, not a blank one.</summary>
public class ReportRenderingTests
{
    const int Width = 1200, Height = 2000;

    [Fact]
    public void Report_html_renders_in_headless_chromium_with_text_the_stage_bars_the_histogram_and_the_curves()
    {
        using var run = FakeRunFolder.Full();
        using var temp = new TempFolder();
        var html = RunReport.Write(run.Path).HtmlPath;
        var png = temp.Combine("report.png");
        HeadlessChromium.Screenshot(html, png, Width, Height, temp.Combine("profile"), TimeSpan.FromSeconds(60));

        // Kept past the test, for a person to look at when an assertion below fails.
        var kept = Path.Combine(Path.GetTempPath(), "raft-report-screenshot.png");
        File.Copy(png, kept, overwrite: true);
        File.Copy(html, Path.Combine(Path.GetTempPath(), "raft-report-screenshot.html"), overwrite: true);

        using var bitmap = SKBitmap.Decode(png) ?? throw new InvalidDataException($"{png}: Chromium's screenshot is not a decodable PNG");
        Assert.Equal((Width, Height), (bitmap.Width, bitmap.Height));
        int notWhite = 0, dark = 0, lossBlue = 0, lrGreen = 0, histogramBlue = 0;
        var colours = new HashSet<uint>();
        for (int y = 0; y < bitmap.Height; y++)
        for (int x = 0; x < bitmap.Width; x++)
        {
            var p = bitmap.GetPixel(x, y);
            colours.Add((uint)p);
            if (p.Red < 245 || p.Green < 245 || p.Blue < 245) notWhite++;
            if (p.Red < 90 && p.Green < 90 && p.Blue < 90) dark++;
            if (Near(p, 0x1c, 0x7e, 0xd6)) lossBlue++;      // HtmlReportWriter.LossColor: the loss curve
            if (Near(p, 0x2f, 0x9e, 0x44)) lrGreen++;       // HtmlReportWriter.LearningRateColor: the lr curve
            if (Near(p, 0x46, 0x82, 0xb4, 30) || Near(p, 0x90, 0xb4, 0xd2, 30)) histogramBlue++; // ScottPlot's SteelBlue bars (60% alpha)
        }
        string Summary() => $"not white {notWhite}, dark {dark}, colours {colours.Count}, loss {lossBlue}, lr {lrGreen}, histogram {histogramBlue} (screenshot: {kept})";
        Assert.True(notWhite > Width * Height / 30, $"the page looks blank: {Summary()}");
        Assert.True(colours.Count > 300, $"too few distinct colours for text, tables and plots: {Summary()}");
        Assert.True(dark > 5000, $"little or no text was drawn: {Summary()}");
        Assert.True(lossBlue > 300, $"the loss curve (inline SVG) is not on screen: {Summary()}");
        Assert.True(lrGreen > 300, $"the learning-rate curve (inline SVG) is not on screen: {Summary()}");
        Assert.True(histogramBlue > 2000, $"the histogram (data URI PNG) is not on screen: {Summary()}");
    }

    static bool Near(SKColor p, int r, int g, int b, int tolerance = 12) =>
        Math.Abs(p.Red - r) <= tolerance && Math.Abs(p.Green - g) <= tolerance && Math.Abs(p.Blue - b) <= tolerance;
}

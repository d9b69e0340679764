using RaftPipeline.Stages.Analyze;
using RaftPipeline.Stages.Data;
using RaftPipeline.Stages.Tests.TestSupport;
using SkiaSharp;

namespace RaftPipeline.Stages.Tests.Analyze;

public class TokenHistogramPlotTests
{
    [Fact]
    public void Renders_a_png_of_the_requested_size_with_bars_and_a_density_curve()
    {
        using var temp = new TempFolder();
        var random = new SplitMix64(5);
        // A skewed, realistic spread of lengths: 150 to ~900 tokens.
        var lengths = Enumerable.Range(0, 400).Select(_ => 150 + (int)(Math.Pow(random.NextDouble(), 2) * 600 + random.NextDouble() * 150)).ToArray();
        string path = temp.Combine("histogram.png");
        TokenHistogramPlot.SavePng(path, lengths, maxSeqLength: 1000, width: 800, height: 500);

        var bytes = File.ReadAllBytes(path);
        Assert.Equal(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }, bytes[..8]);
        // IHDR follows the signature: length, "IHDR", then big-endian width and height.
        Assert.Equal("IHDR", System.Text.Encoding.ASCII.GetString(bytes, 12, 4));
        Assert.Equal(800, System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(16)));
        Assert.Equal(500, System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(20)));

        using var bitmap = SKBitmap.Decode(path);
        Assert.Equal((800, 500), (bitmap.Width, bitmap.Height));
        var background = bitmap.GetPixel(2, 2);
        int different = 0, blueish = 0, orangeish = 0, dark = 0;
        for (int y = 0; y < bitmap.Height; y++)
        for (int x = 0; x < bitmap.Width; x++)
        {
            var p = bitmap.GetPixel(x, y);
            if (p != background) different++;
            if (p.Blue > p.Red + 40 && p.Blue > 120) blueish++;                    // the bars
            if (p.Red > 200 && p.Green is > 100 and < 180 && p.Blue < 80) orangeish++; // the KDE curve
            if (p.Red < 80 && p.Green < 80 && p.Blue < 80) dark++;                 // axes, ticks and text
        }
        Assert.True(different > 800 * 500 / 20, $"only {different} pixels differ from the background");
        Assert.True(blueish > 5000, $"bars: {blueish} blue pixels");
        Assert.True(orangeish > 300, $"density curve: {orangeish} orange pixels");
        Assert.True(dark > 1000, $"text and axes: {dark} dark pixels");

        // The title is text only: dark pixels there mean a font was found (Debian: fonts-dejavu-core).
        int title = 0;
        for (int y = 0; y < 40; y++)
        for (int x = 0; x < bitmap.Width; x++)
        {
            var p = bitmap.GetPixel(x, y);
            if (p.Red < 100 && p.Green < 100 && p.Blue < 100) title++;
        }
        Assert.True(title > 100, $"no title text rendered ({title} dark pixels): is a font installed (fonts-dejavu-core)?");
    }

    [Fact]
    public void Renders_when_every_length_is_the_same()
    {
        using var temp = new TempFolder();
        string path = temp.Combine("flat.png");
        TokenHistogramPlot.SavePng(path, [100, 100, 100], maxSeqLength: null, width: 400, height: 300);
        using var bitmap = SKBitmap.Decode(path);
        Assert.Equal((400, 300), (bitmap.Width, bitmap.Height));
    }
}

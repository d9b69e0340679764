using System.Runtime.CompilerServices;

namespace RaftPipeline.Stages.Tests.TestSupport;

/// <summary>
/// A font for the analyze stage's plots (their title and labels are text; Skia draws none without a font), installed
/// before any test of this assembly runs: Skia reads the system's fonts once per process.
/// </summary>
internal static class TestMachineSetup
{
    /// <summary>Debian's DejaVu Sans, the face <c>TokenHistogramPlot</c> prefers.</summary>
    public const string DejaVuSans = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";

#pragma warning disable CA2255 // must precede the first use of Skia in this test process
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void EnsureFont() =>
        DebianPackages.Ensure("fonts-dejavu-core", () => File.Exists(DejaVuSans), "the analyze plots' text (TokenHistogramPlotTests)");
}

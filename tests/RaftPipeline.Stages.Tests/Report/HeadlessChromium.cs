using System.Diagnostics;
using RaftPipeline.Stages.Tests.TestSupport;

namespace RaftPipeline.Stages.Tests.Report;

/// <summary>
/// Debian's <c>chromium</c> package driven headless to screenshot a local page. Missing, it is installed (as root or
/// with password-less sudo, see <see cref="DebianPackages"/>); where it cannot be, the test fails with the install
/// command, never skips: the report test is meaningless without a browser.
/// </summary>
public static class HeadlessChromium
{
    static readonly string[] Names = ["chromium", "chromium-browser"];

    public static string Executable()
    {
        DebianPackages.Ensure("chromium", () => Find() is not null, "checking that report.html renders (headless Chromium)");
        return Find()!;
    }

    static string? Find() =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .SelectMany(dir => Names.Select(name => Path.Combine(dir, name)))
            .FirstOrDefault(File.Exists);

    /// <summary>Renders <paramref name="htmlPath"/> at <paramref name="width"/>×<paramref name="height"/> into <paramref name="pngPath"/>.</summary>
    public static void Screenshot(string htmlPath, string pngPath, int width, int height, string profileDirectory, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(Executable())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[]
                 {
                     "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
                     // A private profile: parallel test runs must not share (and lock) one.
                     $"--user-data-dir={profileDirectory}",
                     $"--screenshot={pngPath}", $"--window-size={width},{height}",
                     new Uri(htmlPath).AbsoluteUri,
                 })
            start.ArgumentList.Add(arg);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {start.FileName}");
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{start.FileName} did not finish the screenshot within {timeout.TotalSeconds} s");
        }
        if (process.ExitCode != 0 || !File.Exists(pngPath))
            throw new InvalidOperationException(
                $"{start.FileName} exited with {process.ExitCode} and {(File.Exists(pngPath) ? "a" : "no")} screenshot; its output:\n{stdout.Result}\n{stderr.Result}");
    }
}

namespace RaftPipeline.Cli.Console;

/// <summary>Live Spectre.Console rendering only on an interactive terminal; plain lines in CI and when output is redirected.</summary>
public static class OutputMode
{
    public static bool IsLive =>
        !System.Console.IsOutputRedirected
        && string.IsNullOrEmpty(Environment.GetEnvironmentVariable("CI"))
        && Spectre.Console.AnsiConsole.Profile.Capabilities.Interactive
        && Spectre.Console.AnsiConsole.Profile.Capabilities.Ansi;
}

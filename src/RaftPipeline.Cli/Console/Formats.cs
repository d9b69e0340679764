using System.Globalization;

namespace RaftPipeline.Cli.Console;

/// <summary>How the CLI writes sizes, durations and keys.</summary>
public static class Formats
{
    public static string Bytes(long bytes)
    {
        string[] units = ["B", "KiB", "MiB", "GiB", "TiB"];
        double value = bytes;
        var unit = 0;
        while (value >= 1024 && unit < units.Length - 1)
        {
            value /= 1024;
            unit++;
        }
        return unit == 0 ? $"{bytes} B" : string.Create(CultureInfo.InvariantCulture, $"{value:0.0} {units[unit]}");
    }

    public static string Duration(double seconds) =>
        seconds < 60 ? string.Create(CultureInfo.InvariantCulture, $"{seconds:0.0} s")
        : seconds < 3600 ? $"{(int)seconds / 60}m{(int)seconds % 60:00}s"
        : $"{(int)seconds / 3600}h{(int)seconds / 60 % 60:00}m";

    /// <summary>The first 12 hex digits: enough to tell keys apart in a listing, as git's short hashes are.</summary>
    public static string ShortKey(string? key) => key is null ? "-" : key[..Math.Min(12, key.Length)];
}

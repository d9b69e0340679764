using System.Globalization;
using System.Text.RegularExpressions;

namespace RaftPipeline.Stages.Merge;

/// <summary>
/// max_shard_size as transformers' convert_file_size_to_int reads it: decimal units (KB, MB, GB = 10^3, 10^6, 10^9)
/// and binary ones (KiB, MiB, GiB = 2^10, 2^20, 2^30), so "5GB" shards the same here as in save_pretrained.
/// </summary>
public static partial class ShardSize
{
    [GeneratedRegex("^([1-9][0-9]*)(B|KB|MB|GB|KiB|MiB|GiB)$")]
    private static partial Regex Pattern();

    public static long Parse(string text)
    {
        var m = Pattern().Match(text);
        if (!m.Success) throw new FormatException($"max_shard_size '{text}': expected a whole number and a unit (B, KB, MB, GB, KiB, MiB, GiB), e.g. 5GB");
        long value = long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
        long unit = m.Groups[2].Value switch
        {
            "B" => 1,
            "KB" => 1_000,
            "MB" => 1_000_000,
            "GB" => 1_000_000_000,
            "KiB" => 1L << 10,
            "MiB" => 1L << 20,
            _ => 1L << 30,
        };
        return checked(value * unit);
    }
}

using RaftPipeline.Stages.Data;

namespace RaftPipeline.Stages.Generate;

/// <summary>
/// Sampling seeds that depend only on the stage's declared inputs: the configured seed (or the pipeline seed) mixed
/// with a stable label (the probe name, the row index), so one probe's answer does not change when another probe is
/// added, removed or reordered.
/// </summary>
public static class SeedDerivation
{
    /// <summary>FNV-1a over the label's UTF-16 code units, xored into the seed, then one SplitMix64 step.</summary>
    public static long Derive(long seed, string label)
    {
        ulong h = 14695981039346656037UL;
        foreach (char c in label)
        {
            h ^= c;
            h *= 1099511628211UL;
        }
        // The generator seed is used as an unsigned 64-bit value; keep it non-negative so the cast is obvious.
        return (long)(new SplitMix64(unchecked((ulong)seed) ^ h).NextUInt64() >> 1);
    }
}

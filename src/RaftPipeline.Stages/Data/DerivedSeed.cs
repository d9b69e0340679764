using System.Text;

namespace RaftPipeline.Stages.Data;

/// <summary>
/// A stage's own seeds, derived from the pipeline seed and a fixed purpose string ("format/train", "format/test"), so
/// draws for different purposes are independent of each other yet fixed by the one seed the spec names.
/// </summary>
public static class DerivedSeed
{
    /// <summary>
    /// FNV-1a (64-bit) of the purpose's UTF-8 bytes, XORed into the seed's bits, then one SplitMix64 step to spread
    /// the difference over every bit. Portable by construction (string.GetHashCode is randomized per process).
    /// </summary>
    public static ulong For(long pipelineSeed, string purpose)
    {
        ulong hash = 0xCBF29CE484222325UL;
        foreach (byte b in Encoding.UTF8.GetBytes(purpose))
        {
            hash ^= b;
            hash *= 0x100000001B3UL;
        }
        return new SplitMix64(unchecked((ulong)pipelineSeed) ^ hash).NextUInt64();
    }
}

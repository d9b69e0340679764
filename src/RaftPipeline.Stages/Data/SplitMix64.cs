namespace RaftPipeline.Stages.Data;

/// <summary>
/// SplitMix64 (Steele, Lea &amp; Flood, "Fast splittable pseudorandom number generators", OOPSLA 2014; constants
/// from Vigna's reference splitmix64.c). Used instead of <see cref="System.Random"/>, whose algorithm is
/// unspecified and has changed between .NET versions: a shuffle seeded with 1234 must give the same order on
/// every machine and runtime, forever.
/// </summary>
public sealed class SplitMix64
{
    private ulong _state;

    public SplitMix64(ulong seed) => _state = seed;

    public ulong NextUInt64()
    {
        ulong z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>
    /// Uniform integer in [0, <paramref name="bound"/>) without modulo bias: draws below 2^64 mod bound are
    /// rejected (the arc4random_uniform construction), so every residue has the same number of preimages.
    /// </summary>
    public ulong NextBelow(ulong bound)
    {
        if (bound == 0) throw new ArgumentOutOfRangeException(nameof(bound), "bound must be positive");
        ulong threshold = (0UL - bound) % bound;
        while (true)
        {
            ulong x = NextUInt64();
            if (x >= threshold) return x % bound;
        }
    }

    public int NextBelow(int bound) =>
        bound > 0 ? (int)NextBelow((ulong)bound) : throw new ArgumentOutOfRangeException(nameof(bound), "bound must be positive");

    /// <summary>Uniform double in [0, 1): the top 53 bits, so every value is exactly representable.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));
}

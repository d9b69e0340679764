namespace RaftPipeline.Modeling.Presets;

/// <summary>
/// SplitMix64 (Steele, Lea, Flood 2014): a tiny 64-bit PRNG whose output is pure integer arithmetic, so a seed
/// gives the same stream on every machine and runtime, independent of libtorch's generators.
/// </summary>
public sealed class SplitMix64(ulong seed)
{
    ulong _state = seed;

    public ulong Next()
    {
        ulong z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Uniform in [0, 1) from the top 53 bits (exact in a double).</summary>
    public double NextUniform() => (Next() >> 11) * (1.0 / (1UL << 53));

    /// <summary>
    /// Approximately N(0, 1) by Irwin–Hall: the sum of four uniforms, centred and scaled to unit variance.
    /// Only additions and multiplications by constants: IEEE arithmetic gives the same bits everywhere, where
    /// Box–Muller's log/cos come from the platform's math library and may differ in the last bit.
    /// </summary>
    public double NextNormal()
    {
        double sum = NextUniform() + NextUniform() + NextUniform() + NextUniform();
        return (sum - 2.0) * Sqrt3;
    }

    /// <summary>√3 (var of a sum of 4 uniforms is 1/3), written out so no library call is involved.</summary>
    const double Sqrt3 = 1.7320508075688772;
}

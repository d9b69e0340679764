using RaftPipeline.Stages.Data;

namespace RaftPipeline.Stages.Tests.Data;

public class SplitMix64Tests
{
    [Fact]
    public void Matches_the_published_reference_sequence_for_seed_1234567()
    {
        // The test vector of Vigna's splitmix64.c as published (e.g. Rosetta Code "Pseudo-random numbers/Splitmix64").
        var random = new SplitMix64(1234567);
        ulong[] expected = [6457827717110365317, 3203168211198807973, 9817491932198370423, 4593380528125082431, 16408922859458223821];
        Assert.Equal(expected, Enumerable.Range(0, 5).Select(_ => random.NextUInt64()).ToArray());
    }

    [Fact]
    public void NextDouble_uses_the_top_53_bits()
    {
        // Computed with an independent Python port: ((x >> 11) * 2**-53) for seed 42.
        var random = new SplitMix64(42);
        Assert.Equal(0.7415648787718233, random.NextDouble());
        Assert.Equal(0.1599103928769201, random.NextDouble());
        Assert.Equal(0.27860113025513866, random.NextDouble());
    }

    [Fact]
    public void NextBelow_stays_in_range_and_covers_it()
    {
        var random = new SplitMix64(7);
        var seen = new int[7];
        for (int i = 0; i < 7000; i++) seen[random.NextBelow(7)]++;
        Assert.All(seen, count => Assert.InRange(count, 850, 1150));
        Assert.Throws<ArgumentOutOfRangeException>(() => random.NextBelow(0));
    }

    [Fact]
    public void Fisher_Yates_with_seed_1234_gives_the_golden_order()
    {
        // Golden order from an independent Python port of SplitMix64 + Durstenfeld's Fisher–Yates with
        // arc4random_uniform-style rejection: it pins the algorithm, so a change of order is a visible break.
        var shuffled = DeterministicShuffle.Copy(Enumerable.Range(0, 10), 1234);
        Assert.Equal([0, 1, 8, 6, 4, 3, 7, 2, 9, 5], shuffled);
    }
}

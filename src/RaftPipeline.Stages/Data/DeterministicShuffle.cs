namespace RaftPipeline.Stages.Data;

/// <summary>Fisher–Yates (Durstenfeld's in-place form) driven by <see cref="SplitMix64"/>.</summary>
public static class DeterministicShuffle
{
    /// <summary>
    /// Shuffles <paramref name="items"/> in place: for i = n-1 down to 1, swap item i with a uniform j in [0, i].
    /// The order depends only on the seed and the count, so it is a documented, portable function.
    /// </summary>
    public static void InPlace<T>(IList<T> items, SplitMix64 random)
    {
        for (int i = items.Count - 1; i > 0; i--)
        {
            int j = random.NextBelow(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }

    /// <summary>A shuffled copy; <paramref name="items"/> is left untouched.</summary>
    public static List<T> Copy<T>(IEnumerable<T> items, ulong seed)
    {
        var list = items.ToList();
        InPlace(list, new SplitMix64(seed));
        return list;
    }
}

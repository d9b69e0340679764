namespace RaftPipeline.Training.Distributed;

/// <summary>
/// How one optimizer step's rows are split among the ranks. Every rank computes the same epoch permutation (a pure
/// function of seed and epoch) and so the same rows for global step s: positions [s·B·W·A, (s+1)·B·W·A) of it, for
/// per-device batch B, world size W and accumulation A. Rank r takes the step's rows r, r + W, r + 2W, … — what
/// DistributedSampler (indices[r::W]) gives rank r over the same positions, since every step starts at a multiple of
/// W — and runs them as micro-batches of B. The last step of an epoch may be shorter: ranks then get uneven shares
/// (some none) rather than DistributedSampler's repeated padding rows, so the step's gradient is exactly the one a
/// single process computes on the same rows.
/// </summary>
public static class StepSharding
{
    /// <summary>Rank <paramref name="rank"/>'s share of a step's rows, in order.</summary>
    public static IReadOnlyList<T> Share<T>(IReadOnlyList<T> stepRows, int rank, int worldSize)
    {
        if (worldSize < 1) throw new ArgumentOutOfRangeException(nameof(worldSize), worldSize, "expected ≥ 1");
        if (rank < 0 || rank >= worldSize) throw new ArgumentOutOfRangeException(nameof(rank), rank, $"expected 0 to {worldSize - 1}");
        if (worldSize == 1) return stepRows;
        var share = new List<T>((stepRows.Count + worldSize - 1) / worldSize);
        for (int i = rank; i < stepRows.Count; i += worldSize) share.Add(stepRows[i]);
        return share;
    }
}

using static TorchSharp.torch;

namespace RaftPipeline.Training.Distributed;

/// <summary>
/// torch.utils.data.DistributedSampler's index stream for one rank, exactly: with shuffle, a generator seeded with
/// seed + epoch gives randperm(n) (else 0…n−1); without drop_last the list is padded to ceil(n / W)·W by repeating
/// it from the start; with drop_last it is cut to floor(n / W)·W; rank r takes indices[r::W].
/// <para>The trainer does not use this class directly: it shards each optimizer step instead
/// (<see cref="StepSharding"/>), which on the same permutation hands every rank the same rows DistributedSampler
/// would, without the padding rows that would make N-rank training differ from one process with an N-times batch.</para>
/// </summary>
public static class DistributedSampler
{
    public static long[] Indices(int count, int rank, int worldSize, int epoch, long seed = 0, bool shuffle = true, bool dropLast = false)
    {
        if (worldSize < 1) throw new ArgumentOutOfRangeException(nameof(worldSize), worldSize, "expected ≥ 1");
        if (rank < 0 || rank >= worldSize) throw new ArgumentOutOfRangeException(nameof(rank), rank, $"expected 0 to {worldSize - 1}");
        long[] indices;
        if (shuffle)
        {
            var generator = new Generator((ulong)(seed + epoch));
            using var perm = randperm(count, generator: generator);
            indices = perm.data<long>().ToArray();
        }
        else indices = Enumerable.Range(0, count).Select(i => (long)i).ToArray();

        int total;
        if (dropLast && count % worldSize != 0)
            total = count / worldSize * worldSize;
        else
            total = (count + worldSize - 1) / worldSize * worldSize;
        var padded = new long[total];
        for (int i = 0; i < total; i++) padded[i] = indices.Length == 0 ? 0 : indices[i % indices.Length];
        return padded.Where((_, i) => i % worldSize == rank).ToArray();
    }
}

using RaftPipeline.Modeling.Native;
using RaftPipeline.Training.Distributed;
using static TorchSharp.torch;

namespace RaftPipeline.Training.Tests.Distributed;

public class DistributedSamplerTests
{
    public DistributedSamplerTests() => TorchRuntime.EnsureInitialized();

    [Fact]
    public void Without_shuffle_pads_by_repeating_from_the_start_and_strides_by_rank()
    {
        // torch.utils.data.DistributedSampler(range(5), num_replicas=2, shuffle=False): [0, 2, 4] and [1, 3, 0].
        Assert.Equal([0, 2, 4], DistributedSampler.Indices(5, 0, 2, epoch: 0, shuffle: false));
        Assert.Equal([1, 3, 0], DistributedSampler.Indices(5, 1, 2, epoch: 0, shuffle: false));
        // 3 replicas of 7: padded to 9 with 0, 1.
        Assert.Equal([2, 5, 1], DistributedSampler.Indices(7, 2, 3, epoch: 0, shuffle: false));
    }

    [Fact]
    public void Drop_last_cuts_to_a_multiple_of_the_world_size()
    {
        Assert.Equal([0, 2], DistributedSampler.Indices(5, 0, 2, epoch: 0, shuffle: false, dropLast: true));
        Assert.Equal([1, 3], DistributedSampler.Indices(5, 1, 2, epoch: 0, shuffle: false, dropLast: true));
    }

    [Fact]
    public void Shuffle_is_randperm_seeded_with_seed_plus_epoch_split_over_ranks()
    {
        using var perm = randperm(11, generator: new Generator(7 + 3));
        var expected = perm.data<long>().ToArray();
        var ranks = Enumerable.Range(0, 3).Select(r => DistributedSampler.Indices(11, r, 3, epoch: 3, seed: 7)).ToList();
        Assert.All(ranks, r => Assert.Equal(4, r.Length)); // ceil(11 / 3)
        for (int i = 0; i < 12; i++)
            Assert.Equal(expected[i % 11], ranks[i % 3][i / 3]);
        Assert.NotEqual(ranks[0], DistributedSampler.Indices(11, 0, 3, epoch: 4, seed: 7)); // a new order each epoch
    }

    [Fact]
    public void Step_shards_give_each_rank_what_distributed_sampler_gives_it_over_the_same_permutation()
    {
        // 24 rows, batch 2, accumulation 3, world 2: each step takes 12 consecutive rows of the epoch order.
        const int rows = 24, batch = 2, accumulation = 3, world = 2;
        using var perm = randperm(rows, generator: new Generator(5 + 1));
        var order = perm.data<long>().ToArray();
        for (int rank = 0; rank < world; rank++)
        {
            var fromSteps = order.Chunk(batch * world * accumulation).SelectMany(step => StepSharding.Share(step, rank, world)).ToArray();
            Assert.Equal(DistributedSampler.Indices(rows, rank, world, epoch: 1, seed: 5), fromSteps);
        }
    }

    [Fact]
    public void A_short_last_step_is_shared_unevenly_without_padding()
    {
        int[] step = [10, 11, 12];
        Assert.Equal([10, 12], StepSharding.Share(step, 0, 2));
        Assert.Equal([11], StepSharding.Share(step, 1, 2));
        Assert.Empty(StepSharding.Share(step, 3, 4));
        Assert.Equal(step, StepSharding.Share(step, 0, 1));
    }
}

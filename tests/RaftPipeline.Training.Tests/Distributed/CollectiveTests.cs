using System.Runtime.InteropServices;
using RaftPipeline.Modeling.Native;
using RaftPipeline.Training.Distributed;
using TorchSharp;
using static TorchSharp.torch;

namespace RaftPipeline.Training.Tests.Distributed;

public class CollectiveTests
{
    public CollectiveTests() => TorchRuntime.EnsureInitialized();

    [Fact]
    public void Tcp_all_reduce_sums_in_rank_order_and_every_rank_gets_the_same_bits()
    {
        const int world = 3;
        var results = LocalJob.RunAll(world, rendezvous =>
        {
            using var collective = new TcpCollective(rendezvous);
            int rank = rendezvous.World.Rank;
            // Values whose float32 sum depends on the order: only the rank-ordered sum matches the expectation below.
            using var a = tensor(new[] { 1e8f, 1f + rank, 0.1f * (rank + 1) });
            using var b = tensor(new[] { (double)rank, 2.5 }).reshape(2, 1);
            collective.AllReduceSum([a, b]);
            return (A: a.data<float>().ToArray(), B: b.data<double>().ToArray());
        });
        float[] values = [1e8f, 1f, 0.1f, 1e8f, 2f, 0.2f, 1e8f, 3f, 0.3f];
        var expected = new float[3];
        for (int i = 0; i < 3; i++) expected[i] = (values[i] + values[3 + i]) + values[6 + i];
        foreach (var r in results)
        {
            Assert.Equal(expected, r.A);      // exact: ((r0 + r1) + r2) in float32
            Assert.Equal([3.0, 7.5], r.B);
        }
        Assert.Equal(MemoryMarshal.AsBytes(results[0].A.AsSpan()).ToArray(), MemoryMarshal.AsBytes(results[2].A.AsSpan()).ToArray());
    }

    [Fact]
    public void Tcp_broadcast_and_barrier_reach_every_rank()
    {
        var results = LocalJob.RunAll(3, rendezvous =>
        {
            using var collective = new TcpCollective(rendezvous);
            using var t = full(4, (float)rendezvous.World.Rank + 10);
            collective.Barrier();
            collective.Broadcast(t);
            collective.Barrier();
            return t.data<float>().ToArray();
        });
        Assert.All(results, r => Assert.Equal([10f, 10f, 10f, 10f], r));
    }

    [Fact]
    public void A_failing_rank_stops_the_others_with_its_message()
    {
        var results = LocalJob.Run(3, rendezvous =>
        {
            using var collective = new TcpCollective(rendezvous);
            using var t = ones(2);
            if (rendezvous.World.Rank == 2)
            {
                collective.ReportFailure("out of memory on purpose");
                throw new InvalidOperationException("rank 2's own error");
            }
            collective.AllReduceSum([t]); // ranks 0 and 1 wait here for rank 2, which never comes
            return 0;
        });
        Assert.IsType<InvalidOperationException>(results[2].Error);
        foreach (var rank in new[] { 0, 1 })
        {
            var e = Assert.IsType<RemoteRankFailedException>(results[rank].Error);
            Assert.Equal(2, e.FailedRank);
            Assert.Equal("rank 2 failed: out of memory on purpose", e.Message);
        }
    }

    [Fact]
    public void A_rank_that_vanishes_without_a_word_stops_the_others()
    {
        var results = LocalJob.Run(2, rendezvous =>
        {
            if (rendezvous.World.Rank == 1)
            {
                // A crash: the connection drops, no goodbye, no failure frame.
                typeof(Rendezvous).GetField("_disposed", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)!.SetValue(rendezvous, true);
                foreach (var peer in (Array)typeof(Rendezvous).GetField("_peers", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)!.GetValue(rendezvous)!)
                    ((IDisposable?)peer?.GetType().GetProperty("Client")!.GetValue(peer))?.Dispose();
                return 0;
            }
            rendezvous.Barrier();
            return 0;
        });
        var e = Assert.IsType<RemoteRankFailedException>(results[0].Error);
        Assert.Equal(1, e.FailedRank);
        Assert.Contains("without reporting an error", e.Message);
    }

    [Fact]
    public void Rendezvous_rejects_a_rank_with_a_different_world_size()
    {
        int port = LocalJob.FreePort();
        Exception? rootError = null;
        var root = new Thread(() =>
        {
            try { using var r = Rendezvous.Join(LocalJob.World(0, 2, port), TimeSpan.FromSeconds(20)); }
            catch (Exception e) { rootError = e; }
        });
        root.Start();
        Assert.ThrowsAny<Exception>(() => Rendezvous.Join(new DistributedWorld(1, 3, 1, "127.0.0.1", port, "test"), TimeSpan.FromSeconds(3)));
        root.Join();
        Assert.Contains("rank 1 says WORLD_SIZE=3, rank 0 has WORLD_SIZE=2", rootError?.Message);
    }

    [Fact]
    public void Joining_an_absent_rank_zero_times_out_naming_the_address()
    {
        int port = LocalJob.FreePort();
        var e = Assert.Throws<DistributedSetupException>(() => Rendezvous.Join(LocalJob.World(1, 2, port), TimeSpan.FromSeconds(1)));
        Assert.Contains($"rank 1 could not join rank 0 at 127.0.0.1:{port} (MASTER_ADDR:MASTER_PORT)", e.Message);
    }

    [Fact]
    public void Gradient_buckets_sum_over_ranks_and_leave_untouched_parameters_without_gradient()
    {
        var results = LocalJob.RunAll(2, rendezvous =>
        {
            using var collective = new TcpCollective(rendezvous);
            int rank = rendezvous.World.Rank;
            var a = zeros(2, 3).requires_grad_(true);
            var b = zeros(4).requires_grad_(true);
            var c = zeros(1).requires_grad_(true);   // no rank produces a gradient for c
            var loss = (a * (rank + 1)).sum();
            if (rank == 1) loss = loss + (b * 3).sum(); // only rank 1 reaches b (e.g. rank 0 had no rows)
            loss.backward();
            // A bucket limit of 6 elements forces a second bucket.
            GradientBuckets.AllReduceSum(collective, [a, b, c], maxBucketElements: 6);
            return (A: a.grad!.data<float>().ToArray(), B: b.grad!.data<float>().ToArray(), CHasGrad: c.grad is not null);
        });
        foreach (var r in results)
        {
            Assert.Equal(Enumerable.Repeat(3f, 6), r.A);
            Assert.Equal(Enumerable.Repeat(3f, 4), r.B);
            Assert.False(r.CHasGrad);
        }
    }

    [Fact]
    public void Tensor_pointers_address_the_first_element_including_the_storage_offset()
    {
        using var t = arange(10, dtype: ScalarType.Float32);
        var whole = new float[10];
        Marshal.Copy(TensorMemory.Address(t), whole, 0, 10);
        Assert.Equal(t.data<float>().ToArray(), whole);
        using var tail = t.narrow(0, 4, 3);
        var three = new float[3];
        Marshal.Copy(TensorMemory.Address(tail), three, 0, 3);
        Assert.Equal([4f, 5f, 6f], three);
        using var l = tensor(new long[] { 7, 8 });
        Assert.Equal(7L, Marshal.ReadInt64(TensorMemory.Address(l)));
        using var bf = ones(2, dtype: ScalarType.BFloat16);
        Assert.Equal((short)0x3F80, Marshal.ReadInt16(TensorMemory.Address(bf))); // bf16 1.0: any dtype has an address
        using var strided = t.view(2, 5).t();
        Assert.Throws<ArgumentException>(() => TensorMemory.Address(strided)); // kernels index a dense array
    }

    [Fact]
    public void Nccl_is_looked_for_beside_torch_then_on_the_system()
    {
        var dir = Directory.CreateTempSubdirectory("raft-nccl-").FullName;
        try
        {
            var torchLib = Path.Combine(dir, "site-packages", "torch", "lib");
            var ncclLib = Path.Combine(dir, "site-packages", "nvidia", "nccl", "lib");
            Directory.CreateDirectory(torchLib);
            Directory.CreateDirectory(ncclLib);
            File.WriteAllText(Path.Combine(torchLib, "libtorch_cuda.so"), "");
            File.WriteAllText(Path.Combine(ncclLib, "libnccl.so.2"), "");
            string[] maps = [$"7f00-7f01 r-xp 00000000 08:01 1 {Path.Combine(torchLib, "libtorch_cuda.so")}", "7f02-7f03 rw-p 00000000 00:00 0 [heap]"];
            var fromMaps = NcclLibrary.Candidates(null, maps, null, () => null).ToList();
            Assert.Equal([Path.Combine(ncclLib, "libnccl.so.2"), "libnccl.so.2", "libnccl.so"], fromMaps);
            var fromPath = NcclLibrary.Candidates(null, [], $"/nowhere:{torchLib}", () => null).ToList();
            Assert.Equal(Path.Combine(ncclLib, "libnccl.so.2"), fromPath[0]);
            string[] mappedNccl = [$"7f00-7f01 r-xp 00000000 08:01 1 /opt/nccl/libnccl.so.2.27.3"];
            Assert.Equal("/opt/nccl/libnccl.so.2.27.3", NcclLibrary.Candidates(null, mappedNccl, null, () => null).First());
            Assert.Equal(["libnccl.so.2", "libnccl.so"], NcclLibrary.Candidates(null, [], null, () => null));
            Assert.Equal([Path.Combine(ncclLib, "libnccl.so.2")], NcclLibrary.Candidates(Path.Combine(ncclLib, "libnccl.so.2"), maps, null, () => null));
            var e = Assert.Throws<DistributedSetupException>(() => NcclLibrary.Candidates("/no/such/libnccl.so.2", [], null, () => null).ToList());
            Assert.Contains("RAFT_NCCL_LIBRARY=/no/such/libnccl.so.2: no such file", e.Message);
        }
        finally { Directory.Delete(dir, recursive: true); }
    }
}

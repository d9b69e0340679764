using System.Diagnostics;
using RaftPipeline.Modeling.Native;
using RaftPipeline.Training.Checkpointing;
using RaftPipeline.Training.Tests.Support;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace RaftPipeline.Training.Tests.Checkpointing;

public class RecomputeCheckpointTests(ITestOutputHelper output)
{
    internal static (nn.Module<Tensor, Tensor> embed, ToyBlock[] blocks) Stack(int layers, long hidden, long inner, double dropout)
    {
        torch.random.manual_seed(11);
        var embed = nn.Embedding(40, hidden);
        embed.weight!.requires_grad_(false); // frozen embedding: block 0's input needs no grad
        var blocks = Enumerable.Range(0, layers).Select(_ => new ToyBlock(hidden, inner, dropout)).ToArray();
        foreach (var b in blocks)
        {
            b.up_proj.weight!.requires_grad_(false); // a frozen base weight next to trainable ones
            b.norm.weight!.requires_grad_(false);
            b.norm.bias!.requires_grad_(false);
        }
        return (embed, blocks);
    }

    static Tensor Forward(nn.Module<Tensor, Tensor> embed, ToyBlock[] blocks, Tensor ids, bool recompute)
    {
        var h = embed.forward(ids);
        foreach (var b in blocks)
        {
            var trainable = b.parameters().Where(p => p.requires_grad).Cast<Tensor>().ToList();
            h = recompute ? RecomputeCheckpoint.Run(b.forward, h, trainable) : b.forward(h);
        }
        return h;
    }

    [Fact]
    public void Gradients_equal_the_non_checkpointed_ones_with_dropout()
    {
        TorchRuntime.EnsureInitialized();
        var ids = tensor(new long[] { 1, 5, 9, 3, 7, 2, 8, 4 }, [2, 4]);
        var grads = new List<Tensor[]>();
        var losses = new List<double>();
        foreach (var recompute in new[] { false, true })
        {
            var (embed, blocks) = Stack(3, 16, 32, dropout: 0.3);
            foreach (var b in blocks) b.train();
            torch.random.manual_seed(99); // same dropout masks for both runs
            var loss = Forward(embed, blocks, ids, recompute).pow(2).mean();
            loss.backward();
            losses.Add(loss.item<float>());
            grads.Add(blocks.SelectMany(b => b.parameters().Where(p => p.requires_grad).Select(p => p.grad!)).ToArray());
        }
        Assert.Equal(losses[0], losses[1]);
        Assert.Equal(3 * 3, grads[1].Length); // down_proj.weight, down_proj.bias, up_proj.bias per block
        for (int i = 0; i < grads[0].Length; i++)
        {
            Assert.False(grads[1][i] is null || grads[1][i].IsInvalid, $"gradient {i} missing with recompute");
            Assert.True(grads[0][i].allclose(grads[1][i], rtol: 0, atol: 0), $"gradient {i} differs: max |Δ| " +
                $"{(grads[0][i] - grads[1][i]).abs().max().item<float>()}");
        }
    }

    [Fact]
    public void Input_gradient_flows_through_when_the_input_requires_grad()
    {
        TorchRuntime.EnsureInitialized();
        var results = new List<Tensor>();
        foreach (var recompute in new[] { false, true })
        {
            var (_, blocks) = Stack(2, 8, 16, dropout: 0);
            var x = linspace(-1, 1, 24).reshape(3, 8).requires_grad_(true);
            var h = x;
            foreach (var b in blocks)
                h = recompute ? RecomputeCheckpoint.Run(b.forward, h, b.parameters().Where(p => p.requires_grad).Cast<Tensor>().ToList()) : b.forward(h);
            h.sum().backward();
            results.Add(x.grad!);
        }
        Assert.True(results[0].allclose(results[1], rtol: 0, atol: 0));
    }

    [Fact]
    public void Recompute_keeps_far_less_activation_memory_alive_until_backward()
    {
        TorchRuntime.EnsureInitialized();
        // 6 blocks, 1 × 2048 tokens, hidden 256, inner 1024: each block keeps ~5 fp32 [2048, 1024]-sized
        // intermediates (8 MiB each) for backward without recompute; with recompute only its 2 MiB input.
        const int layers = 6;
        var ids = arange(2048, dtype: ScalarType.Int64).remainder(40).reshape(1, 2048);
        var measured = new Dictionary<bool, double>();
        // The least of three passes per mode: RSS is process-wide, and whatever else the process does meanwhile (the
        // finalizer thread, threads left by earlier tests) only ever adds to a pass (seen in CI: 48 MiB once, ~39 MiB
        // usually, for the recompute pass). A fixed mmap threshold keeps every later pass measurable: glibc's dynamic
        // threshold would otherwise rise after the first free of an 8 MiB tensor and serve the next passes from
        // memory already resident.
        mallopt(MmapThreshold, 1 << 20);
        foreach (var recompute in new[] { false, true, false, true, false, true })
        {
            var (embed, blocks) = Stack(layers, 256, 1024, dropout: 0);
            using var scope = NewDisposeScope();
            GC.Collect(); GC.WaitForPendingFinalizers();
            long before = Rss();
            var h = Forward(embed, blocks, ids, recompute);
            long after = Rss();
            double held = (after - before) / 1048576.0;
            measured[recompute] = measured.TryGetValue(recompute, out var least) ? Math.Min(least, held) : held;
            h.sum().backward();
        }
        output.WriteLine($"resident memory held from forward to backward: {measured[false]:F0} MiB without recompute, " +
                         $"{measured[true]:F0} MiB with recompute ({layers} blocks, 2048 tokens, hidden 256, inner 1024)");
        Assert.True(measured[true] < measured[false] / 3,
            $"recompute held {measured[true]:F0} MiB vs {measured[false]:F0} MiB without");
    }

    const int MmapThreshold = -3; // M_MMAP_THRESHOLD

    [System.Runtime.InteropServices.DllImport("libc")]
    static extern int mallopt(int param, int value);

    /// <summary>Resident set size: large tensors are mmap-ed by the allocator and return to the OS when freed.</summary>
    static long Rss()
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith("VmRSS:"))
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
        throw new InvalidOperationException("VmRSS not found in /proc/self/status");
    }
}

/// <summary>
/// Counts live tensors of this thread, so it runs alone: other tests' backward passes return gradients through the
/// same process-wide <see cref="BackwardTensors"/> queue, and releasing them here would skew the count.
/// </summary>
[Collection(SerialTests.Name)]
public class RecomputeLeakTests
{
    [Fact]
    public void Backward_leaves_no_tensor_for_the_garbage_collector()
    {
        // On CUDA backward runs on libtorch's device thread, outside every scope of ours: a wrapper the recompute makes
        // there (the unpacked saved input, the recomputed graph) and does not dispose holds device memory until a GC.
        // Here, with no scope around the pass, every tensor made on this thread must be disposed by the time we are done.
        TorchRuntime.EnsureInitialized();
        var (embed, blocks) = RecomputeCheckpointTests.Stack(2, 16, 32, dropout: 0.0);
        var ids = tensor(new long[] { 1, 5, 9, 3, 7, 2, 8, 4 }, [2, 4]);
        var stats = DisposeScopeManager.Statistics;
        // Gradients other tests' backward passes left in the shared queue would be disposed (and counted) here.
        BackwardTensors.ReleaseReturned();
        long before = stats.ThreadTotalLiveCount;
        Tensor loss;
        using (var forward = NewDisposeScope()) // the forward pass in a scope, as the trainer runs it; backward outside
        {
            var y = RecomputeCheckpoint.Run(blocks[0].forward, embed.forward(ids), blocks[0].parameters().Where(p => p.requires_grad).Cast<Tensor>().ToList());
            loss = y.sum().DetachFromDisposeScope();
        }
        loss.backward();
        loss.Dispose();
        BackwardTensors.ReleaseReturned();
        foreach (var p in blocks[0].parameters()) p.grad = null;
        Assert.Equal(before, stats.ThreadTotalLiveCount);
    }
}

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SerialTests
{
    public const string Name = "serial";
}

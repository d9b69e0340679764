using RaftPipeline.Modeling.Config;
using RaftPipeline.Modeling.Decoder;
using RaftPipeline.Modeling.Layers;
using RaftPipeline.Modeling.Native;
using RaftPipeline.Modeling.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace RaftPipeline.Modeling.Tests.Layers;

/// <summary>
/// Projections that read one input are built on CUDA as row blocks of one allocation, so a LoRA group can run them as
/// one GEMM without gathering a copy (the originals would stay reserved by the caching allocator).
/// </summary>
public class SideBySideLinearTests
{
    static long Address(Tensor t) => TensorMemory.Address(t).ToInt64();

    [Fact]
    public void Made_as_one_allocation_the_rows_are_the_weights_themselves()
    {
        var qkv = Linear.SideBySide(32, [32, 16, 16], hasBias: false, ScalarType.Float32, CPU, oneAllocation: true);
        using (no_grad()) foreach (var l in qkv) l.weight.normal_(0, 1);
        using var rows = Linear.RowsSideBySide(qkv);
        Assert.NotNull(rows);
        Assert.Equal([64L, 32L], rows!.shape);
        Assert.Equal(Address(qkv[0].weight), Address(rows));
        // A view, not a copy: each member's values are its row block, and writing through the view reaches them.
        Assert.True(rows.narrow(0, 32, 16).allclose(qkv[1].weight, 0, 0));
        Assert.True(rows.narrow(0, 48, 16).allclose(qkv[2].weight, 0, 0));
        using (no_grad()) rows.narrow(0, 48, 16).fill_(7);
        Assert.Equal(7f, qkv[2].weight.max().item<float>());
        foreach (var l in qkv) l.Dispose();
    }

    [Fact]
    public void A_decoder_keeps_separate_allocations_on_the_cpu_and_asks_for_one_on_cuda()
    {
        // CPU: each projection its own allocation (MKL's results depend on where a matrix starts; see SideBySide).
        using var model = TinyModels.Build(TinyModels.Config(DecoderFamily.Llama, tied: false));
        var attention = ((DecoderLayer)model.model.layers[0]).self_attn;
        Assert.Null(Linear.RowsSideBySide(new[] { attention.q_proj!, attention.k_proj!, attention.v_proj! }.Cast<Linear>().ToArray()));
        // The choice itself, as Attention and Mlp make it for a CUDA model (no CUDA device here to build one on).
        var onCpu = Linear.SideBySide(8, [4, 4], hasBias: false, ScalarType.Float32, CPU);
        Assert.Null(Linear.RowsSideBySide(onCpu));
        foreach (var l in onCpu) l.Dispose();
    }

    [Fact]
    public void The_view_belongs_to_the_caller_not_to_an_open_dispose_scope()
    {
        var gateUp = Linear.SideBySide(16, [8, 8], hasBias: false, ScalarType.Float32, CPU, oneAllocation: true);
        Tensor? rows;
        using (NewDisposeScope()) rows = Linear.RowsSideBySide(gateUp);
        Assert.NotNull(rows);
        Assert.False(rows!.IsInvalid); // a LoRA group keeps it for as long as the group lives
        Assert.Equal(16L, rows.shape[0]);
        rows.Dispose();
        foreach (var l in gateUp) l.Dispose();
    }

    [Fact]
    public void Separate_allocations_out_of_order_members_and_biases_are_not_taken_for_one()
    {
        var apart = new[] { new Linear(8, 4, false, ScalarType.Float32, CPU), new Linear(8, 4, false, ScalarType.Float32, CPU) };
        Assert.Null(Linear.RowsSideBySide(apart));

        var together = Linear.SideBySide(8, [4, 6, 2], hasBias: false, ScalarType.Float32, CPU, oneAllocation: true);
        Assert.NotNull(Linear.RowsSideBySide(together));
        Assert.Null(Linear.RowsSideBySide([together[1], together[0]]));  // not in row order
        Assert.Null(Linear.RowsSideBySide([together[0], together[2]]));  // a gap where k would be

        var biased = Linear.SideBySide(8, [4, 4], hasBias: true, ScalarType.Float32, CPU, oneAllocation: true);
        Assert.All(biased, l => Assert.NotNull(l.bias));
        Assert.Null(Linear.RowsSideBySide(biased));
        foreach (var l in apart.Concat(together).Concat(biased)) l.Dispose();
    }

    [Fact]
    public void Weights_moved_to_another_dtype_are_no_longer_one_allocation()
    {
        var together = Linear.SideBySide(8, [4, 4], hasBias: false, ScalarType.Float32, CPU, oneAllocation: true);
        Assert.NotNull(Linear.RowsSideBySide(together));
        foreach (var l in together) l.to(ScalarType.BFloat16);
        Assert.Null(Linear.RowsSideBySide(together));
        foreach (var l in together) l.Dispose();
    }
}

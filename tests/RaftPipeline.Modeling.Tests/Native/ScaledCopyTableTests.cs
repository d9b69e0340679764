using RaftPipeline.Modeling.Native;
using RaftPipeline.Modeling.Native.Cuda;
using static TorchSharp.torch;

namespace RaftPipeline.Modeling.Tests.Native;

/// <summary>The host side of the LoRA copy kernels' table (the kernels themselves are checked on the GPU, tests/gpu).</summary>
public class ScaledCopyTableTests
{
    public ScaledCopyTableTests() => TorchRuntime.EnsureInitialized();

    [Fact]
    public void Takes_row_strided_blocks_and_chunks_every_element()
    {
        var master = zeros(6000, 4);
        var block = zeros([9000, 12], ScalarType.BFloat16).narrow(0, 3000, 6000).narrow(1, 4, 4); // row stride 12
        var a = zeros(4, 2560);
        var stackedRows = zeros([12, 2560], ScalarType.BFloat16).narrow(0, 4, 4);
        using var table = new FusedKernels.ScaledCopyTable([(master, block, 2.0), (a, stackedRows, 1.0)]);
        Assert.Equal(2, table.Count);
        Assert.Equal((24000 + 4095) / 4096 + (10240 + 4095) / 4096, table.Chunks);
    }

    [Fact]
    public void Refuses_pairs_of_different_shapes_or_column_strides()
    {
        Assert.Throws<ArgumentException>(() => new FusedKernels.ScaledCopyTable([(zeros(4, 8), zeros([8, 4], ScalarType.BFloat16), 1.0)]));
        var transposed = zeros([8, 4], ScalarType.BFloat16).t(); // [4, 8] with column stride 4
        Assert.Throws<ArgumentException>(() => new FusedKernels.ScaledCopyTable([(zeros(4, 8), transposed, 1.0)]));
    }
}

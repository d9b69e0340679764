using RaftPipeline.Modeling.Native;
using TorchSharp;

namespace RaftPipeline.Modeling.Tests.Native;

public class TorchRuntimeTests
{
    [Fact]
    public void Libtorch_loads_and_computes_a_matmul_and_a_gradient()
    {
        TorchRuntime.EnsureInitialized();
        using var scope = torch.NewDisposeScope();
        var a = torch.tensor(new float[] { 1, 2, 3, 4 }, new long[] { 2, 2 }, requires_grad: true);
        var b = torch.tensor(new float[] { 5, 6, 7, 8 }, new long[] { 2, 2 });
        var c = torch.matmul(a, b);
        Assert.Equal(new float[] { 19, 22, 43, 50 }, c.data<float>().ToArray());
        c.sum().backward();
        // d(sum(A·B))/dA = 1·Bᵀ summed over rows: each row of the gradient is B's row sums.
        Assert.Equal(new float[] { 11, 15, 11, 15 }, a.grad!.data<float>().ToArray());
    }

    [Fact]
    public void OpenMp_threads_wait_passively_unless_the_user_chose_otherwise()
    {
        // Set before libtorch loaded (by the first EnsureInitialized of this process), in the native environment
        // libgomp reads. CI and this test run without OMP_WAIT_POLICY, so the tool's choice must be there.
        var before = Environment.GetEnvironmentVariable("OMP_WAIT_POLICY");
        TorchRuntime.EnsureInitialized();
        Assert.Equal(before ?? TorchRuntime.OpenMpWaitPolicy, TorchRuntime.NativeEnvironmentVariable("OMP_WAIT_POLICY"));
    }

    [Fact]
    public void Large_cpu_tensors_ask_for_huge_pages_unless_the_user_chose_otherwise()
    {
        // c10's CPU allocator reads THP_MEM_ALLOC_ENABLE from the native environment at its first allocation, which
        // the module initializer precedes; CI runs without it, so the tool's choice must be there.
        var before = Environment.GetEnvironmentVariable("THP_MEM_ALLOC_ENABLE");
        TorchRuntime.EnsureInitialized();
        Assert.Equal(before ?? TorchRuntime.HugePageAllocation, TorchRuntime.NativeEnvironmentVariable("THP_MEM_ALLOC_ENABLE"));
    }

    [Theory]
    [InlineData("always [madvise] never\n", "madvise")]
    [InlineData("[always] madvise never", "always")]
    [InlineData("always madvise [never]", "never")]
    [InlineData("always madvise never", null)]
    public void The_kernels_huge_page_mode_is_the_bracketed_choice(string sysfs, string? mode) =>
        Assert.Equal(mode, TorchRuntime.SelectedMode(sysfs));

    [Fact]
    public void The_shipped_native_library_has_its_unused_libstdcxx_need_marked_weak()
    {
        TorchRuntime.EnsureInitialized();
        var lib = TorchRuntime.CandidateLibraryPaths().First(File.Exists);
        var needs = ElfVersionPatcher.ReadNeeds(File.ReadAllBytes(lib));
        var need = Assert.Single(needs, n => n.Name == "GLIBCXX_3.4.32");
        Assert.True(need.IsWeak);
        Assert.Contains(needs, n => n.Name == "GLIBCXX_3.4.30" && !n.IsWeak);
    }

    [Fact]
    public void Patching_is_idempotent_and_changes_only_the_named_need()
    {
        var lib = TorchRuntime.CandidateLibraryPaths().First(File.Exists);
        var original = File.ReadAllBytes(lib);
        // Undo our own patch on a copy so the test sees a pristine need regardless of run order.
        var copy = (byte[])original.Clone();
        var before = ElfVersionPatcher.ReadNeeds(copy);
        int first = ElfVersionPatcher.MarkWeak(copy, TorchRuntime.UnusedVersionNeeds);
        int second = ElfVersionPatcher.MarkWeak(copy, TorchRuntime.UnusedVersionNeeds);
        Assert.InRange(first, 0, 1);
        Assert.Equal(0, second);
        var after = ElfVersionPatcher.ReadNeeds(copy);
        Assert.Equal(before.Count, after.Count);
        for (int i = 0; i < before.Count; i++)
        {
            Assert.Equal(before[i].Name, after[i].Name);
            if (before[i].Name != "GLIBCXX_3.4.32") Assert.Equal(before[i].Flags, after[i].Flags);
            else Assert.True(after[i].IsWeak);
        }
    }
}

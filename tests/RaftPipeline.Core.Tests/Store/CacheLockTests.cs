using RaftPipeline.Core.Store;
using RaftPipeline.Core.Tests.Engine;

namespace RaftPipeline.Core.Tests.Store;

public class CacheLockTests
{
    [Fact]
    public async Task A_second_holder_waits_names_the_first_and_gives_up_after_the_timeout()
    {
        using var dir = new TempFolder();
        using var first = await CacheLock.AcquireAsync(dir.Path, "raft run a.yaml", TimeSpan.Zero, null, default);
        LockOwner? seen = null;
        var e = await Assert.ThrowsAsync<CacheLockTimeoutException>(() =>
            CacheLock.AcquireAsync(dir.Path, "raft run b.yaml", TimeSpan.FromMilliseconds(300), o => seen = o, default));
        Assert.Equal(Environment.ProcessId, seen!.ProcessId);
        Assert.Equal("raft run a.yaml", seen.Purpose);
        Assert.Contains($"is locked by pid {Environment.ProcessId} on", e.Message);
        Assert.Contains("raft run a.yaml", e.Message);
    }

    [Fact]
    public async Task A_waiting_holder_gets_the_lock_once_it_is_released()
    {
        using var dir = new TempFolder();
        var first = await CacheLock.AcquireAsync(dir.Path, "first", TimeSpan.Zero, null, default);
        var waited = false;
        var second = CacheLock.AcquireAsync(dir.Path, "second", TimeSpan.FromSeconds(10), _ => waited = true, default);
        await Task.Delay(300);
        Assert.False(second.IsCompleted);
        first.Dispose();
        using var held = await second;
        Assert.True(waited);
        Assert.Equal("second", LockOwner.TryRead(Path.Combine(dir.Path, CacheLock.OwnerFileName))!.Purpose);
    }
}

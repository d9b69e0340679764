namespace RaftPipeline.Core.Store;

/// <summary>The cache stayed locked by another process for longer than the caller was willing to wait.</summary>
public sealed class CacheLockTimeoutException(string cacheRoot, LockOwner? owner, TimeSpan waited)
    : Exception($"the cache {cacheRoot} is locked by {owner?.ToString() ?? "another process"}; gave up after waiting {waited.TotalSeconds:0} s. " +
                "Wait for that process to finish (or stop it), or run with another cache.")
{
    public LockOwner? Owner { get; } = owner;
}

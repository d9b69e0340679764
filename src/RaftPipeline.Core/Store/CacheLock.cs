namespace RaftPipeline.Core.Store;

/// <summary>
/// The cache-wide lock: one process at a time runs stages, publishes or collects garbage in a cache.
/// It is an exclusive open of <c>&lt;root&gt;/lock</c> (FileShare.None, which .NET implements with flock on Unix),
/// so the operating system releases it when the holder exits or is killed: a crash never leaves the cache
/// locked. The holder writes who it is to <c>lock.owner.json</c> so a waiting process can say whom it waits for.
/// A run holds the lock from its first stage to its end; a second run waits, then reuses what the first built.
/// Reading (plan, cache ls) needs no lock: entries appear by atomic rename.
/// </summary>
public sealed class CacheLock : IDisposable
{
    public const string LockFileName = "lock";
    public const string OwnerFileName = "lock.owner.json";
    static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(100);
    static readonly TimeSpan OwnerNoteGrace = TimeSpan.FromSeconds(1);

    readonly FileStream _stream;
    readonly string _ownerPath;

    CacheLock(FileStream stream, string ownerPath)
    {
        _stream = stream;
        _ownerPath = ownerPath;
    }

    /// <summary>
    /// Takes the lock, waiting up to <paramref name="timeout"/>. <paramref name="onWait"/> is called once when
    /// the lock is found taken, with its holder when known.
    /// </summary>
    /// <exception cref="CacheLockTimeoutException">The lock was still held when the timeout ran out.</exception>
    public static async Task<CacheLock> AcquireAsync(
        string cacheRoot, string purpose, TimeSpan timeout, Action<LockOwner?>? onWait, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(cacheRoot);
        var lockPath = Path.Combine(cacheRoot, LockFileName);
        var ownerPath = Path.Combine(cacheRoot, OwnerFileName);
        var started = DateTime.UtcNow;
        var announced = false;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (TryOpenExclusive(lockPath) is { } stream)
            {
                var owner = new LockOwner(Environment.ProcessId, Environment.MachineName, DateTime.UtcNow, purpose);
                JsonFiles.WriteAtomically(ownerPath, owner.ToJson());
                return new CacheLock(stream, ownerPath);
            }
            var waited = DateTime.UtcNow - started;
            if (waited >= timeout)
                throw new CacheLockTimeoutException(cacheRoot, LockOwner.TryRead(ownerPath), waited);
            if (!announced)
            {
                // The holder writes its note just after it takes the lock: give it a moment, so the message can
                // name whom we wait for instead of "another process".
                var owner = LockOwner.TryRead(ownerPath);
                if (owner is not null || waited >= OwnerNoteGrace)
                {
                    announced = true;
                    onWait?.Invoke(owner);
                }
            }
            await Task.Delay(Poll, cancellationToken).ConfigureAwait(false);
        }
    }

    static FileStream? TryOpenExclusive(string path)
    {
        try
        {
            return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException e) when (File.Exists(path) && IsHeldElsewhere(e))
        {
            // Held by another process (or another handle of this one).
            return null;
        }
        // Anything else (a read-only file system, a full disk) is no reason to wait: the caller reports it.
    }

    /// <summary>
    /// The lock is taken: flock said EWOULDBLOCK (.NET keeps the raw errno as the HResult: 11 on Linux, 35 on macOS), or
    /// Windows said sharing or lock violation (32, 33).
    /// </summary>
    internal static bool IsHeldElsewhere(IOException e) => (e.HResult & 0xFFFF) is 11 or 35 or 32 or 33;

    public void Dispose()
    {
        // Remove the note first: once the stream closes, another process may write its own.
        try { File.Delete(_ownerPath); }
        catch (IOException) { /* the next holder overwrites it anyway */ }
        _stream.Dispose();
    }
}

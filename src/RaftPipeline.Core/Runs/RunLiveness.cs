namespace RaftPipeline.Core.Runs;

/// <summary>
/// Says whether the process that wrote a run folder is still running it: the run holds <c>run.active</c> open with
/// an exclusive lock (FileShare.None, flock on Unix) from before its lock file first says "running" until it ends.
/// The operating system drops the lock when the process dies, kill -9 included, so a reader that can take the lock
/// knows the run was interrupted. No pid is trusted: a pid can be reused, a lock cannot outlive its holder.
/// </summary>
public sealed class RunLiveness : IDisposable
{
    public const string FileName = "run.active";

    readonly FileStream _stream;
    readonly string _path;

    RunLiveness(FileStream stream, string path)
    {
        _stream = stream;
        _path = path;
    }

    /// <summary>Takes the run folder's liveness lock for this process. The file stays empty: only its lock matters, and an empty file fits on a full disk.</summary>
    public static RunLiveness Hold(string runFolder)
    {
        var path = Path.Combine(runFolder, FileName);
        return new RunLiveness(new FileStream(path, FileMode.Create, FileAccess.ReadWrite, FileShare.None), path);
    }

    /// <summary>True while some process (this one included) holds <paramref name="runFolder"/>'s liveness lock.</summary>
    public static bool IsHeld(string runFolder)
    {
        var path = Path.Combine(runFolder, FileName);
        try
        {
            using var probe = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.None);
            return false;
        }
        catch (FileNotFoundException)
        {
            return false;
        }
        catch (DirectoryNotFoundException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return false; // unreadable: cannot be a live run of ours
        }
        catch (IOException e)
        {
            return Store.CacheLock.IsHeldElsewhere(e); // locked by its holder; any other error: no live run of ours
        }
    }

    public void Dispose()
    {
        _stream.Dispose();
        try { File.Delete(_path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { /* a stale file is harmless: nobody holds it */ }
    }
}

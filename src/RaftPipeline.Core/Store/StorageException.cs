namespace RaftPipeline.Core.Store;

/// <summary>
/// A folder or file the tool must use is unusable: read-only, missing, full, or not a folder. The message is one line
/// naming what (<see cref="What"/>: "cache folder", "run folder"), the path and the reason, for the CLI to print as is
/// (exit code 3, apart from spec errors).
/// </summary>
public sealed partial class StorageException(string what, string path, string problem, Exception? inner = null)
    : IOException($"{what} '{path}': {problem}", inner)
{
    public string What { get; } = what;
    public string StoragePath { get; } = path;
    public string Problem { get; } = problem;

    /// <summary>
    /// Wraps an I/O failure met while using <paramref name="path"/> (a <paramref name="what"/>): the reason in plain words
    /// (read-only file system, no space left, permission denied, not a folder, ...), the path that failed when it is
    /// another one inside it.
    /// </summary>
    public static StorageException From(string what, string path, Exception e)
    {
        if (e is StorageException s) return s;
        var reason = Reason(e);
        // .NET's own message ends with the path that failed, quoted: keep it when it is not the folder itself.
        var failedPath = FailedPath(e.Message);
        if (failedPath is not null && Path.GetFullPath(failedPath) != Path.GetFullPath(path))
            reason += $" (writing '{failedPath}')";
        return new StorageException(what, path, reason, e);
    }

    /// <summary>The reason of an I/O failure in words, from its errno when .NET kept it (Unix HResult = errno).</summary>
    public static string Reason(Exception e) => e switch
    {
        StorageException s => s.Problem,
        UnauthorizedAccessException => "permission denied (not writable by this user, or a read-only file system)",
        DirectoryNotFoundException => "a folder on the path does not exist",
        FileNotFoundException => "does not exist",
        PathTooLongException => "the path is too long",
        IOException io => (io.HResult & 0xFFFF) switch
        {
            28 => "no space left on the device",
            30 => "read-only file system",
            20 => "a part of the path is a file, not a folder",
            17 => "a file is in the way of a folder",
            122 => "disk quota exceeded",
            5 => "input/output error (a failing disk?)",
            _ => StripPath(io.Message),
        },
        _ => e.Message,
    };

    /// <summary>The path at the end of a .NET I/O message (<c>... : '/path'</c>), or null.</summary>
    public static string? FailedPath(string message)
    {
        var start = message.IndexOf(" : '", StringComparison.Ordinal);
        if (start < 0 || !message.EndsWith('\'')) return null;
        // A temporary file of an atomic write (path.PID.GUID.tmp) is gone: name the file it stood for.
        return TempSuffix().Replace(message[(start + 4)..^1], "");
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"\.\d+\.[0-9a-f]{32}\.tmp$")]
    private static partial System.Text.RegularExpressions.Regex TempSuffix();

    static string StripPath(string message)
    {
        var start = message.IndexOf(" : '", StringComparison.Ordinal);
        return (start < 0 ? message : message[..start]).TrimEnd('.');
    }
}

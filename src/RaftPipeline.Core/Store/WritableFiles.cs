namespace RaftPipeline.Core.Store;

/// <summary>
/// Files leaving the cache become the user's: the store makes its data files read-only (so no stage scribbles on
/// its input), and File.Copy keeps that mode, so whatever is copied out is made writable again.
/// </summary>
public static class WritableFiles
{
    /// <summary>Gives the owner write access to every file under <paramref name="directory"/>.</summary>
    public static void MakeWritable(string directory)
    {
        foreach (var path in Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories))
            MakeFileWritable(path);
    }

    public static void MakeFileWritable(string path)
    {
        if (OperatingSystem.IsWindows()) File.SetAttributes(path, File.GetAttributes(path) & ~FileAttributes.ReadOnly);
        else File.SetUnixFileMode(path, File.GetUnixFileMode(path) | UnixFileMode.UserWrite);
    }

    /// <summary>Copies the tree <paramref name="from"/> into <paramref name="to"/> (created), every copy writable.</summary>
    public static void CopyTree(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var dir in Directory.EnumerateDirectories(from, "*", SearchOption.AllDirectories))
            Directory.CreateDirectory(Path.Combine(to, Path.GetRelativePath(from, dir)));
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            File.Copy(file, target);
            MakeFileWritable(target);
        }
    }
}

namespace RaftPipeline.MSBuild.Tests.Infrastructure;

/// <summary>A fresh folder under the system temp folder, deleted (read-only cache files included) on dispose.</summary>
sealed class TempFolder : IDisposable
{
    public TempFolder(string prefix = "raft-msbuild-tests")
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), prefix, Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string relative, string text)
    {
        var full = System.IO.Path.Combine(Path, relative);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(full)!);
        System.IO.File.WriteAllText(full, text);
        return full;
    }

    public void Dispose()
    {
        if (!Directory.Exists(Path)) return;
        // The artifact cache makes its files read-only; Windows refuses to delete those as they are.
        if (OperatingSystem.IsWindows())
            foreach (var file in Directory.EnumerateFiles(Path, "*", SearchOption.AllDirectories))
                System.IO.File.SetAttributes(file, FileAttributes.Normal);
        Directory.Delete(Path, recursive: true);
    }
}

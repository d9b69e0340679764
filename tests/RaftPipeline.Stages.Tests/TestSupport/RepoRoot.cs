namespace RaftPipeline.Stages.Tests.TestSupport;

/// <summary>The repository root: the first folder above the test binaries that holds RaftPipeline.sln.</summary>
public static class RepoRoot
{
    public static string Path { get; } = Find();

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "RaftPipeline.sln"))) return dir.FullName;
        throw new InvalidOperationException($"no RaftPipeline.sln above {AppContext.BaseDirectory}");
    }
}

namespace RaftPipeline.Cli.Tests.Support;

/// <summary>The repository checkout the tests run from: the folder holding RaftPipeline.sln above the test binaries.</summary>
public static class RepoPaths
{
    public static string Root { get; } = Find();

    static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "RaftPipeline.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException($"no RaftPipeline.sln above {AppContext.BaseDirectory}");
    }
}

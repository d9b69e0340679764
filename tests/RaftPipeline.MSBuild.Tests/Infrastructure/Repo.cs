using System.Reflection;

namespace RaftPipeline.MSBuild.Tests.Infrastructure;

static class Repo
{
    /// <summary>The folder holding RaftPipeline.sln, found by walking up from the test assembly.</summary>
    public static string Root { get; } = FindRoot();

    public static string FakeTool { get; } =
        typeof(Repo).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "FakeRaftTool").Value!;

    static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "RaftPipeline.sln"))) return dir.FullName;
        throw new InvalidOperationException($"no RaftPipeline.sln above {AppContext.BaseDirectory}");
    }
}

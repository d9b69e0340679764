namespace RaftPipeline.Modeling.Tests.Support;

public static class RepoPaths
{
    /// <summary>The folder holding RaftPipeline.sln, found by walking up from the test binaries.</summary>
    public static string Root
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "RaftPipeline.sln"))) dir = dir.Parent;
            return dir?.FullName ?? throw new InvalidOperationException($"no RaftPipeline.sln above {AppContext.BaseDirectory}");
        }
    }

    public static string Fixtures(string topic) => Path.Combine(Root, "tests", "RaftPipeline.Modeling.Tests", "Fixtures", topic);
}

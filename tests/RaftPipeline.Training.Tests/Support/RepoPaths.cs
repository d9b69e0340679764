namespace RaftPipeline.Training.Tests.Support;

/// <summary>Finds the repository root (the folder holding RaftPipeline.sln) and this project's fixtures.</summary>
public static class RepoPaths
{
    public static string Root
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "RaftPipeline.sln")))
                dir = dir.Parent;
            return dir?.FullName ?? throw new InvalidOperationException(
                $"RaftPipeline.sln not found above {AppContext.BaseDirectory}");
        }
    }

    public static string Fixtures(string topic) =>
        Path.Combine(Root, "tests", "RaftPipeline.Training.Tests", "Fixtures", topic);

    /// <summary>A fixture file the lead generates on the GPU machine; a clear failure (never a skip) while it is missing.</summary>
    public static string RequireFixture(string topic, string file)
    {
        var path = Path.Combine(Fixtures(topic), file);
        if (!File.Exists(path))
            Assert.Fail($"Fixture missing: {path}. Generate it on the GPU machine with " +
                        $"`python tests/RaftPipeline.Training.Tests/Fixtures/{topic}/generate.py " +
                        $"tests/RaftPipeline.Training.Tests/Fixtures/{topic}` and commit the output.");
        return path;
    }
}

namespace RaftPipeline.Text.Tests.Templates;

/// <summary>Finds files in the source tree: the repository root is the folder holding RaftPipeline.sln.</summary>
static class RepoPaths
{
    public static string Root { get; } = FindRoot();

    static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "RaftPipeline.sln"))) return dir.FullName;
        throw new InvalidOperationException($"no RaftPipeline.sln above {AppContext.BaseDirectory}");
    }

    public static string ChatTemplateFixtures => Path.Combine(Root, "tests", "RaftPipeline.Text.Tests", "Fixtures", "chat_templates");
    public static string Qwen3Assets => Path.Combine(Root, "src", "RaftPipeline.Text", "Assets", "Qwen3");
}

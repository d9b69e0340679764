using RaftPipeline.MSBuild.Tests.Infrastructure;

namespace RaftPipeline.MSBuild.Tests.Packaging;

/// <summary>
/// A copy of examples/msbuild in a temp folder laid out like the repository (examples/msbuild/ beside
/// pipelines/), with a nuget.config that serves only the freshly packed RaftPipeline.MSBuild and a private
/// packages folder. pipelines/quickstart.yaml here is a spec of the test's own whose stages the test tool runs.
/// </summary>
sealed class ExampleSandbox : IDisposable
{
    static readonly TimeSpan BuildTimeout = TimeSpan.FromMinutes(3);
    readonly TempFolder folder = new("raft-msbuild-example");

    public ExampleSandbox(string msbuildFeed, string spec, params (string Path, string Text)[] files)
    {
        var source = Path.Combine(Repo.Root, "examples", "msbuild");
        foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(source, file);
            if (relative.Split(Path.DirectorySeparatorChar)[0] is "bin" or "obj") continue;
            var target = Path.Combine(ProjectDirectory, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
        folder.File("nuget.config", $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <clear />
                <add key="raft-test" value="{msbuildFeed}" />
              </packageSources>
            </configuration>
            """);
        SpecPath = folder.File("pipelines/quickstart.yaml", spec);
        foreach (var (path, text) in files) folder.File(Path.Combine("pipelines", path), text);
    }

    public string Root => folder.Path;
    public string ProjectDirectory => Path.Combine(folder.Path, "examples", "msbuild");
    public string SpecPath { get; }
    public string OutputDirectory => Path.Combine(ProjectDirectory, "bin", "Debug", "net10.0");

    /// <summary>The test tool's record of its calls (one line each), beside the spec.</summary>
    public IReadOnlyList<string> ToolCalls
    {
        get
        {
            var log = Path.Combine(folder.Path, "pipelines", "tool-calls.log");
            return File.Exists(log) ? File.ReadAllLines(log) : [];
        }
    }

    public void Write(string relativeToPipelines, string text) => folder.File(Path.Combine("pipelines", relativeToPipelines), text);

    /// <summary>
    /// <c>dotnet build</c> of the example with the test tool as RaftToolPath, at MSBuild's default verbosity: the tool's progress
    /// lines must show there (ToolProgress.IsProgress).
    /// Each argument is a property (<c>Name=Value</c>) or, starting with '-', a switch such as <c>-t:RaftRun</c>.
    /// </summary>
    public ProcessResult Build(params string[] properties)
    {
        var args = new List<string> { "build", "QuickstartRetrain.csproj", "-nologo", "-nodeReuse:false", $"-p:RaftToolPath={Repo.FakeTool}" };
        args.AddRange(properties.Select(p => p.StartsWith('-') ? p : $"-p:{p}"));
        var env = new Dictionary<string, string> { ["NUGET_PACKAGES"] = Path.Combine(folder.Path, ".nuget-packages") };
        return Processes.Run("dotnet", args, ProjectDirectory, BuildTimeout, env);
    }

    public void Dispose() => folder.Dispose();
}

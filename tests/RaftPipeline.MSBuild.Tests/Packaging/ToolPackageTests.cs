using RaftPipeline.MSBuild.Output;
using RaftPipeline.MSBuild.Tests.Infrastructure;

namespace RaftPipeline.MSBuild.Tests.Packaging;

/// <summary>The packed RaftPipeline.Cli tool, installed into a temporary tool path, run as users run it.</summary>
[Collection(PackagesCollection.Name)]
public sealed class ToolPackageTests(PackagesFixture packages) : IDisposable
{
    static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);
    readonly TempFolder work = new();

    string Tool => Path.Combine(packages.ToolDirectory, OperatingSystem.IsWindows() ? "dotnet-raft.exe" : "dotnet-raft");

    [Fact]
    public void Installed_tool_prints_its_version()
    {
        var result = Processes.Run(Tool, ["--version"], work.Path, Timeout);
        Assert.Equal((0, PackagesFixture.Version), (result.ExitCode, result.Output.Trim()));
    }

    [Fact]
    public void Installed_tool_validates_a_tiny_pipeline()
    {
        // The shipped tool registers no stage executor yet, so `run` cannot execute a stage; validation is the
        // deepest thing a tiny pipeline can go through today (spec, overrides, inputs hashed by path).
        work.File("data/rows.csv", "context,question,cot\n하늘,색은?,파랑\n");
        var spec = work.File("tiny.yaml", """
            name: tiny
            stages:
              data:
                kind: load
                inputs:
                  files: [data/rows.csv]
            """);
        var result = Processes.Run(Tool, ["validate", spec, "--set", "data.limit=1"], work.Path, Timeout);
        Assert.Equal((0, "ok: 1 stage"), (result.ExitCode, result.Output.Trim()));
    }

    [Fact]
    public void Installed_tool_runs_a_tiny_pipeline_to_success_and_reuses_it()
    {
        // Through the installed package (its own TorchSharp and libtorch): the built-in tiny model, then load, format
        // and analyze on it; the rerun reuses every stage.
        work.File("data/rows.csv", "context,question,cot\n하늘은 파랗다.,하늘은 무슨 색이야?,그것도 몰라? 여기 \"하늘은 파랗다\"라고 써 있잖아.\n");
        var spec = work.File("tiny.yaml", """
            name: tiny
            seed: 3
            device: cpu
            stages:
              base:
                kind: model
                params: { preset: tiny }
              data:
                kind: load
                inputs:
                  files: [data/rows.csv]
              formatted:
                kind: format
                inputs: { data: data, model: base }
              stats:
                kind: analyze
                inputs: { data: formatted, model: base }
            """);
        var first = Processes.Run(Tool, ["run", spec, "--run-dir", Path.Combine(work.Path, "run1")], work.Path, Timeout);
        Assert.True(first.ExitCode == 0, first.ToString());
        Assert.Contains("succeeded: 4 ran, 0 reused", first.Output);
        var statistics = File.ReadAllText(Path.Combine(work.Path, "run1", "stages", "stats", "statistics.txt"));
        Assert.Contains("count", statistics);
        Assert.True(File.Exists(Path.Combine(work.Path, "run1", "report.html")));
        var second = Processes.Run(Tool, ["run", spec, "--run-dir", Path.Combine(work.Path, "run2")], work.Path, Timeout);
        Assert.True(second.ExitCode == 0, second.ToString());
        Assert.Contains("succeeded: 0 ran, 4 reused", second.Output);
    }

    [Fact]
    public void Installed_tools_spec_errors_map_to_canonical_msbuild_errors()
    {
        var spec = work.File("bad.yaml", """
            name: bad
            stages:
              data:
                kind: load
                inputs:
                  files: [missing.csv]
                params: { shufle: false }
            """);
        var result = Processes.Run(Tool, ["validate", spec], work.Path, Timeout);
        Assert.Equal(2, result.ExitCode);
        var parser = new ToolOutputParser(_ => null);
        var errors = result.Output.Split('\n').Select(parser.Parse).OfType<ToolDiagnostic>().Select(d => d.ToString()).ToList();
        Assert.Equal(
            [
                $"{spec}(6,15): error RAFT0001: stages.data.inputs.files[0]: path not found: 'missing.csv' (resolved to {Path.Combine(work.Path, "missing.csv")}); expected a path",
                $"{spec}(7,15): error RAFT0001: stages.data.params.shufle: unknown key; did you mean 'shuffle'?",
            ],
            errors);
    }

    public void Dispose() => work.Dispose();
}

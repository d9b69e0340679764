using System.Text.RegularExpressions;
using RaftPipeline.MSBuild.Tests.Infrastructure;

namespace RaftPipeline.MSBuild.Tests.Packaging;

/// <summary>
/// The packed RaftPipeline.MSBuild in examples/msbuild's project, built with <c>dotnet build</c>. The tool is the
/// test tool (the real engine with a test-only `load` stage; the shipped tool registers no stage yet), started
/// through RaftToolPath; it records each call, so "no process started" is observable.
/// </summary>
[Collection(PackagesCollection.Name)]
public sealed class MSBuildPackageTests(PackagesFixture packages)
{
    const string Spec = """
        name: quickstart
        seed: 1
        stages:
          data:
            kind: load
            inputs:
              files: [data/rows.csv]
            params: { shuffle: false }
        """;

    /// <summary>An override and the device, passed as properties for every item; the override changes the stage key.</summary>
    static readonly string[] Settings = ["RaftOverrides=data.limit=10", "RaftDevice=cpu"];

    const string Rows = "context,question,cot\n하늘,색은?,파랑\n";

    [Fact]
    public void Builds_retrain_only_when_the_data_changes_and_copy_the_artifact()
    {
        using var sandbox = new ExampleSandbox(packages.MSBuildFeed, Spec, ("data/rows.csv", Rows));

        var skipped = sandbox.Build("RaftSkip=true");
        Assert.True(skipped.ExitCode == 0, skipped.ToString());
        Assert.Contains("RaftPipeline: RaftSkip is true; no pipeline runs", skipped.Output);
        Assert.Empty(sandbox.ToolCalls);

        var first = sandbox.Build(Settings);
        Assert.True(first.ExitCode == 0, first.ToString());
        Assert.Contains($"RaftPipeline: {sandbox.SpecPath} needs a run: no cache yet at", first.Output);
        Assert.Contains("[1/1] data: ran", first.Output); // the tool's progress, streamed into the build log
        var call = Assert.Single(sandbox.ToolCalls);
        var runs = Path.Combine(sandbox.Root, "pipelines", "runs", "quickstart");
        Assert.Matches($"^run {Regex.Escape(sandbox.SpecPath)} --set data.limit=10 --set device=cpu --run-dir {Regex.Escape(runs)}/\\d{{8}}-\\d{{6}}$", call);
        var copied = Path.Combine(sandbox.OutputDirectory, "model", "data", "rows.csv");
        Assert.Equal(Rows, File.ReadAllText(copied));

        var second = sandbox.Build(Settings);
        Assert.True(second.ExitCode == 0, second.ToString());
        Assert.Contains($"RaftPipeline: {sandbox.SpecPath} is up to date (1 stage cached)", second.Output);
        Assert.DoesNotContain("data: ran", second.Output);
        Assert.Single(sandbox.ToolCalls); // no tool process was started
        Assert.Equal(Rows, File.ReadAllText(copied));

        sandbox.Write("data/rows.csv", Rows + "바다,맛은?,짜다\n");
        var third = sandbox.Build(Settings);
        Assert.True(third.ExitCode == 0, third.ToString());
        Assert.Contains($"RaftPipeline: {sandbox.SpecPath} needs a run: not in the cache: data", third.Output);
        Assert.Equal(2, sandbox.ToolCalls.Count);
        Assert.EndsWith("바다,맛은?,짜다\n", File.ReadAllText(copied));

        // Another tool version: its stage implementations may differ, so nothing recorded by this one is trusted.
        var otherTool = sandbox.Build([.. Settings, "RaftToolVersion=9.9.9"]);
        Assert.True(otherTool.ExitCode == 0, otherTool.ToString());
        Assert.Contains($"RaftPipeline: {sandbox.SpecPath} needs a run: tool 9.9.9 has not built a stage of kind 'load' in this cache yet", otherTool.Output);
        Assert.Contains("[1/1] data: reused", otherTool.Output);
        Assert.Equal(3, sandbox.ToolCalls.Count);
    }

    [Fact]
    public void Spec_errors_and_stage_failures_are_build_errors_at_their_line()
    {
        using var sandbox = new ExampleSandbox(packages.MSBuildFeed, Spec.Replace("shuffle: false", "shufle: false"), ("data/rows.csv", Rows));

        var bad = sandbox.Build();
        Assert.Equal(1, bad.ExitCode);
        Assert.Contains($"{sandbox.SpecPath}(8,15): error RAFT0001: stages.data.params.shufle: unknown key; did you mean 'shuffle'?", bad.Output);
        Assert.Single(sandbox.ToolCalls); // the spec error came from the tool, as it would from the real one

        sandbox.Write("quickstart.yaml", Spec);
        sandbox.Write("data/rows.csv", Rows + "FAIL\n");
        var failed = sandbox.Build();
        Assert.Equal(1, failed.ExitCode);
        Assert.Contains($"{sandbox.SpecPath}(4,3): error RAFT0002: stage 'data' (load) failed: ", failed.Output);
        Assert.Contains("rows.csv asks this test stage to fail", failed.Output);

        // A tool that fails without a word: the exit code becomes the error, and the build says no run started.
        var silent = sandbox.Build("RaftToolPath=/bin/false");
        Assert.Equal(1, silent.ExitCode);
        Assert.Contains($"{sandbox.SpecPath} : error RAFT0003: the tool exited with code 1 (a stage or the tool failed); it started no run;", silent.Output);
    }

    [Fact]
    public void RaftRunAfterBuild_false_leaves_the_pipeline_to_the_RaftRun_target()
    {
        using var sandbox = new ExampleSandbox(packages.MSBuildFeed, Spec, ("data/rows.csv", Rows));

        var build = sandbox.Build("RaftRunAfterBuild=false");
        Assert.True(build.ExitCode == 0, build.ToString());
        Assert.DoesNotContain("RaftPipeline:", build.Output);
        Assert.Empty(sandbox.ToolCalls);

        var onDemand = sandbox.Build("RaftRunAfterBuild=false", "-t:RaftRun");
        Assert.True(onDemand.ExitCode == 0, onDemand.ToString());
        Assert.Contains("[1/1] data: ran", onDemand.Output);
        Assert.Single(sandbox.ToolCalls);
    }
}

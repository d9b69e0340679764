using RaftPipeline.Core.Engine;
using RaftPipeline.Core.Graph;
using RaftPipeline.Core.Runs;
using RaftPipeline.Core.Spec;
using RaftPipeline.MSBuild.Check;
using RaftPipeline.MSBuild.Tests.Infrastructure;

namespace RaftPipeline.MSBuild.Tests.Check;

public sealed class PipelineCheckTests : IDisposable
{
    readonly TempFolder folder = new();
    readonly string spec;

    public PipelineCheckTests()
    {
        folder.File("data/a.csv", "context,question,cot\n하늘,색은?,파랑\n");
        folder.File("data/b.csv", "context,question,cot\n바다,맛은?,짜다\n");
        spec = folder.File("pipeline.yaml", """
            name: check
            seed: 7
            stages:
              first:
                kind: load
                inputs:
                  files: [data/a.csv]
              second:
                kind: load
                inputs:
                  files: [data/b.csv]
                params: { shuffle: false }
            """);
    }

    PipelineCheckResult Check(IReadOnlyList<string>? overrides = null, IReadOnlyList<string>? targets = null, string? toolVersion = null) =>
        PipelineCheck.Run(new PipelineCheckRequest(spec, overrides ?? [], targets ?? [], null, toolVersion ?? ToolInfo.Version));

    /// <summary>Runs the pipeline in process with the real engine and a test executor, as the tool would.</summary>
    RunLock RunEngine(IReadOnlyList<string>? overrides = null, IReadOnlyList<string>? targets = null)
    {
        var loaded = SpecLoader.Load(spec, overrides);
        Assert.True(loaded.IsValid, string.Join("\n", loaded.Errors));
        var graph = PipelineGraph.Build(loaded.Spec);
        var ordered = targets is null ? graph.TopologicalOrder : graph.Closure(targets);
        var runner = new PipelineRunner(new StageExecutorRegistry([new CopyLoadExecutor()]));
        var result = runner.RunAsync(loaded.Spec, ordered, new RunRequest { Targets = targets ?? [] }, NullRunObserver.Instance, CancellationToken.None)
            .GetAwaiter().GetResult();
        Assert.Equal(RunOutcome.Succeeded, result.Outcome);
        return result.Lock;
    }

    [Fact]
    public void Without_a_cache_it_is_not_up_to_date()
    {
        var result = Check();
        Assert.False(result.UpToDate);
        Assert.Equal($"no cache yet at {Path.Combine(folder.Path, ".raft-cache")}", result.Reason);
        Assert.Equal(Path.Combine(folder.Path, "runs", "check"), result.RunsDirectory);
    }

    [Fact]
    public void After_a_run_every_key_matches_the_tools_and_is_cached()
    {
        var run = RunEngine();
        var result = Check();
        Assert.True(result.UpToDate, result.Reason);
        Assert.Equal(2, result.CachedCount);
        Assert.Equal(run.Stages.Select(s => (s.Name, s.Key!)), result.Stages.Select(s => (s.Name, s.Key)));
        Assert.All(result.Stages, s => Assert.True(s.Final, $"{s.Name}: nothing reads it, so it is final"));
        Assert.Equal("하늘", File.ReadAllText(Path.Combine(result.Stages[0].ArtifactDirectory, "a.csv")).Split('\n')[1].Split(',')[0]);
    }

    [Fact]
    public void A_changed_data_file_makes_its_stage_stale_and_only_it()
    {
        RunEngine();
        File.WriteAllText(Path.Combine(folder.Path, "data", "b.csv"), "context,question,cot\n바다,맛은?,달다\n");
        var result = Check();
        Assert.False(result.UpToDate);
        Assert.Equal("not in the cache: second", result.Reason);
        Assert.Equal([true, false], result.Stages.Select(s => s.Cached));
    }

    [Fact]
    public void Touching_a_data_file_without_changing_it_keeps_it_up_to_date()
    {
        RunEngine();
        File.SetLastWriteTimeUtc(Path.Combine(folder.Path, "data", "a.csv"), DateTime.UtcNow.AddMinutes(-5));
        Assert.True(Check().UpToDate);
    }

    [Fact]
    public void Overrides_count_as_the_tool_counts_them()
    {
        RunEngine();
        var changed = Check(overrides: ["second.shuffle=true"]);
        Assert.False(changed.UpToDate);
        Assert.Equal("not in the cache: second", changed.Reason);

        RunEngine(overrides: ["second.shuffle=true"]);
        Assert.True(Check(overrides: ["second.shuffle=true"]).UpToDate);
    }

    [Fact]
    public void Another_tool_version_is_not_trusted()
    {
        RunEngine();
        var result = Check(toolVersion: "9.9.9");
        Assert.False(result.UpToDate);
        Assert.Equal("tool 9.9.9 has not built a stage of kind 'load' in this cache yet", result.Reason);
    }

    [Fact]
    public void Without_run_folders_the_cache_manifests_still_answer()
    {
        RunEngine();
        Directory.Delete(Path.Combine(folder.Path, "runs"), recursive: true);
        var result = Check();
        Assert.True(result.UpToDate, result.Reason);
    }

    [Fact]
    public void Named_stages_limit_the_check_and_are_the_final_ones()
    {
        RunEngine(targets: ["first"]);
        Assert.False(Check().UpToDate);
        var result = Check(targets: ["first"]);
        Assert.True(result.UpToDate, result.Reason);
        Assert.Equal(["first"], result.Stages.Select(s => s.Name));
        Assert.True(result.Stages[0].Final);
    }

    [Fact]
    public void A_run_folder_of_its_own_is_where_the_history_is_read()
    {
        RunEngine();
        var custom = Path.Combine(folder.Path, "build-runs");
        var result = PipelineCheck.Run(new PipelineCheckRequest(spec, [], [], custom, ToolInfo.Version));
        Assert.True(result.UpToDate, result.Reason);
        Assert.Equal(custom, result.RunsDirectory);
    }

    [Fact]
    public void A_spec_error_leaves_the_reporting_to_the_tool()
    {
        File.WriteAllText(spec, File.ReadAllText(spec).Replace("shuffle: false", "shufle: false"));
        var result = Check();
        Assert.False(result.UpToDate);
        Assert.Equal("the spec has 1 error (the tool reports them)", result.Reason);
    }

    [Fact]
    public void An_unknown_target_is_named()
    {
        RunEngine();
        var result = Check(targets: ["frist"]);
        Assert.False(result.UpToDate);
        Assert.StartsWith("unknown stage 'frist'", result.Reason);
    }

    public void Dispose() => folder.Dispose();

    /// <summary>A test `load` stage: copies its files into the artifact.</summary>
    sealed class CopyLoadExecutor : IStageExecutor
    {
        public string Kind => "load";
        public int Version => 5;

        public Task<StageOutcome> RunAsync(StageContext context, CancellationToken cancellationToken)
        {
            foreach (var file in context.Inputs["files"]) File.Copy(file, Path.Combine(context.OutputDirectory, Path.GetFileName(file)));
            return Task.FromResult(StageOutcome.Empty);
        }
    }
}

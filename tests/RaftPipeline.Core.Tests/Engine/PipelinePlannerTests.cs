using RaftPipeline.Core.Engine;
using RaftPipeline.Core.Runs;
using RaftPipeline.Core.Spec;
using RaftPipeline.Core.Store;
using RaftPipeline.Core.TestHost;

namespace RaftPipeline.Core.Tests.Engine;

public class PipelinePlannerTests
{
    static Dictionary<string, PlanEntry> Plan(PipelineFixture f, PipelineSpec spec, IEnumerable<IStageExecutor>? executors = null)
    {
        var store = f.Store;
        var stages = new StageKeyResolver(new StageExecutorRegistry(executors ?? PipelineFixture.Echoes()),
            new ExternalInputHasher(InputHashMemo.InMemory()), store).Resolve(spec.Seed, spec.Stages);
        return PipelinePlanner.Plan(stages, store, RunHistory.Load(f.Folder["runs"])).ToDictionary(e => e.Stage);
    }

    [Fact]
    public void Before_any_run_every_stage_was_never_built()
    {
        using var f = new PipelineFixture();
        Assert.All(Plan(f, f.Spec()).Values, e => Assert.Equal(["never built"], e.Reasons));
    }

    [Fact]
    public async Task The_plan_says_which_stages_are_reused_and_why_the_others_must_run()
    {
        using var f = new PipelineFixture();
        await f.RunAsync(f.Spec());
        Assert.All(Plan(f, f.Spec()).Values, e => Assert.True(e.Reuse));

        File.AppendAllText(f.DataFile, "sea,color?,blue\n");
        var spec = f.Spec(new Dictionary<string, EchoParameters> { ["format"] = new() { Text = "format", Rate = 3e-4, Mode = EchoMode.UpperCase } });
        var plan = Plan(f, spec);

        Assert.Equal(["input changed: data.csv"], plan["load"].Reasons);
        Assert.Equal(["new parameters: mode \"plain\" → \"upper_case\", rate 0.0001 → 0.0003", "upstream changed: load"], plan["format"].Reasons);
        Assert.Equal(["upstream changed: format"], plan["analyze"].Reasons);
        Assert.Equal(["upstream changed: format"], plan["train"].Reasons);
        Assert.All(plan.Values, e => Assert.False(e.Reuse));
    }

    [Fact]
    public async Task The_plan_names_a_new_implementation_a_new_seed_and_an_artifact_removed_from_the_cache()
    {
        using var f = new PipelineFixture();
        var run = await f.RunAsync(f.Spec());
        var bumped = PipelineFixture.Echoes().Select(e => e.Kind == "train" ? new EchoExecutor("train", version: 2) : e);
        Assert.Equal(["stage implementation changed (v1 → v2)"], Plan(f, f.Spec(), bumped)["train"].Reasons);
        Assert.Equal("seed changed (1234 → 7)", Plan(f, f.Spec(seed: 7))["load"].Reasons[0]);

        f.Store.Remove(run.Lock.Stage("analyze")!.Key!);
        var plan = Plan(f, f.Spec());
        Assert.False(plan["analyze"].Reuse);
        Assert.Equal(["built before, but no longer in the cache (removed by gc or another cache)"], plan["analyze"].Reasons);
        Assert.True(plan["train"].Reuse);
    }
}

using RaftPipeline.Core.Engine;
using RaftPipeline.Core.Store;
using RaftPipeline.Core.TestHost;

namespace RaftPipeline.Core.Tests.Engine;

public class StageKeyTests
{
    static IReadOnlyList<ResolvedStage> Resolve(PipelineFixture f, Core.Spec.PipelineSpec spec, IEnumerable<IStageExecutor>? executors = null) =>
        new StageKeyResolver(new StageExecutorRegistry(executors ?? PipelineFixture.Echoes()),
                new ExternalInputHasher(InputHashMemo.InMemory()), f.Store)
            .Resolve(spec.Seed, spec.Stages);

    [Fact]
    public void The_key_material_of_a_fixed_stage_is_this_exact_text()
    {
        using var f = new PipelineFixture();
        var load = Resolve(f, f.Spec())[0];
        var dataSha = ContentHash.OfText("context,question,cot\nsky,color?,blue\n");
        Assert.Equal(
            "{\"executor_version\":1,\"inputs\":{\"files\":[{\"content\":\"" + dataSha + "\"}]}," +
            "\"kind\":\"load\",\"parameters\":{\"mode\":\"plain\",\"rate\":0.0001,\"steps\":3,\"text\":\"load\"},\"seed\":1234}",
            load.Material.ToCanonicalText());
        Assert.Equal(ContentHash.OfText(load.Material.ToCanonicalText()), load.Key);
    }

    [Fact]
    public void Golden_keys_of_the_fixed_pipeline()
    {
        // Fixed content, fixed parameters, fixed seed: these keys must never change unless the key format
        // changes on purpose (which invalidates every user's cache: say so in the release notes). They were
        // computed apart from this code, with Python's hashlib over the format StageKeyMaterial documents.
        using var f = new PipelineFixture();
        var keys = Resolve(f, f.Spec()).ToDictionary(s => s.Name, s => s.Key);
        Assert.Equal(new Dictionary<string, string>
        {
            ["load"] = "5cf73693d1d7d328c312e863c25b9f216da5daa4b338dd994af59cea5c9e3439",
            ["format"] = "2da4d0b2b6e8c5bb0f0aa5ea3d9ea582e57f5790e5350d1243a4cbab57f392b4",
            ["analyze"] = "a82f7b37f2421c943377f384f67e5b7937176599a67fc9b0512f0f94978e1bde",
            ["train"] = "bbb0196ad9dc7b76dd45a9533f06be31e097203c7d5b85c75bc77a23b7da2d14",
        }, keys);
    }

    [Fact]
    public void Keys_do_not_depend_on_where_the_inputs_and_the_spec_are()
    {
        using var a = new PipelineFixture();
        using var b = new PipelineFixture();
        Assert.NotEqual(a.DataFile, b.DataFile);
        Assert.Equal(Resolve(a, a.Spec()).Select(s => s.Key), Resolve(b, b.Spec()).Select(s => s.Key));
    }

    [Fact]
    public void A_parameter_changes_the_key_of_its_stage_and_its_descendants_only()
    {
        using var f = new PipelineFixture();
        var before = Resolve(f, f.Spec()).ToDictionary(s => s.Name, s => s.Key);
        var after = Resolve(f, f.Spec(new Dictionary<string, EchoParameters> { ["format"] = new() { Text = "format", Steps = 4 } }))
            .ToDictionary(s => s.Name, s => s.Key);
        Assert.Equal(before["load"], after["load"]);
        Assert.NotEqual(before["format"], after["format"]);
        Assert.NotEqual(before["analyze"], after["analyze"]);
        Assert.NotEqual(before["train"], after["train"]);
    }

    [Fact]
    public void The_seed_and_the_executor_version_enter_every_key()
    {
        using var f = new PipelineFixture();
        var baseKeys = Resolve(f, f.Spec()).Select(s => s.Key).ToList();
        Assert.All(Resolve(f, f.Spec(seed: 42)).Select(s => s.Key).Zip(baseKeys), p => Assert.NotEqual(p.First, p.Second));

        var bumped = PipelineFixture.Echoes().Select(e => e.Kind == "analyze" ? new EchoExecutor("analyze", version: 2) : e);
        var keys = Resolve(f, f.Spec(), bumped).ToDictionary(s => s.Name, s => s.Key);
        Assert.NotEqual(baseKeys[2], keys["analyze"]);
        Assert.Equal(baseKeys[3], keys["train"]);
    }

    [Fact]
    public void A_kind_without_an_executor_and_a_missing_input_are_reported_together_with_locations()
    {
        using var f = new PipelineFixture();
        File.Delete(f.DataFile);
        var e = Assert.Throws<RunPreparationException>(() => Resolve(f, f.Spec(), PipelineFixture.Echoes().Where(x => x.Kind != "analyze")));
        Assert.Contains(e.Problems, p => p.Contains("pipeline.yaml:4:3: stage 'load', input 'files'") && p.Contains("data.csv"));
        Assert.Contains(e.Problems, p => p.Contains("stage 'analyze': no executor is registered for kind 'analyze'"));
    }
}

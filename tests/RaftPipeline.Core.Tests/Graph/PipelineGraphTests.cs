using RaftPipeline.Core.Graph;
using RaftPipeline.Core.Spec;
using RaftPipeline.Core.Spec.Stages;

namespace RaftPipeline.Core.Tests.Graph;

public class PipelineGraphTests
{
    /// <summary>Stages named with their dependencies, in spec order: "name:dep1,dep2".</summary>
    static PipelineGraph GraphOf(params string[] stages)
    {
        var specs = stages.Select((text, i) =>
        {
            var parts = text.Split(':');
            var deps = parts.Length > 1 && parts[1].Length > 0 ? parts[1].Split(',') : [];
            var inputs = new Dictionary<string, IReadOnlyList<StageInput>>
            {
                ["in"] = deps.Select(d => (StageInput)new StageInput.FromStage(d)).Append(new StageInput.FromPath("/data/x.csv")).ToList(),
            };
            return new StageSpec(parts[0], "quantize", inputs, new QuantizeParameters(), new SourceLocation("spec.yaml", i + 1, 3));
        }).ToList();
        return PipelineGraph.Build(new PipelineSpec("g", 0, DeviceKind.Cpu, "/cache", new Dictionary<string, string>(), specs, "/spec.yaml"));
    }

    static string[] Names(IEnumerable<StageSpec> stages) => stages.Select(s => s.Name).ToArray();

    [Fact]
    public void Topological_order_puts_dependencies_first_and_keeps_spec_order_among_ties()
    {
        // Written out of order: 'train' first, its inputs below it.
        var graph = GraphOf("train:adapter,formatted", "data", "formatted:data", "quantized", "adapter:quantized", "stats:formatted");
        Assert.Equal(["data", "formatted", "quantized", "adapter", "train", "stats"], Names(graph.TopologicalOrder));
    }

    [Fact]
    public void Independent_stages_stay_in_spec_order()
    {
        Assert.Equal(["c", "a", "b"], Names(GraphOf("c", "a", "b").TopologicalOrder));
    }

    [Fact]
    public void Upstream_downstream_ancestors_descendants()
    {
        var graph = GraphOf("data", "formatted:data", "quantized", "adapter:quantized", "train:quantized,adapter,formatted", "merged:train", "stats:formatted");
        Assert.Equal(["quantized", "adapter", "formatted"], graph.Upstream("train"));
        Assert.Equal(["formatted"], graph.Downstream("data"));
        Assert.Equal(["adapter", "train"], graph.Downstream("quantized"));
        Assert.Equal(["data", "formatted", "quantized", "adapter"], graph.Ancestors("train"));
        Assert.Equal(["formatted", "train", "merged", "stats"], graph.Descendants("data"));
        Assert.Empty(graph.Ancestors("data"));
    }

    [Fact]
    public void Closure_of_targets_is_what_they_need_in_order()
    {
        var graph = GraphOf("data", "formatted:data", "quantized", "adapter:quantized", "train:quantized,adapter,formatted", "merged:train", "stats:formatted");
        Assert.Equal(["data", "formatted", "stats"], Names(graph.Closure(["stats"])));
        Assert.Equal(["data", "formatted", "quantized", "adapter", "train", "stats"], Names(graph.Closure(["stats", "train"])));
        Assert.Equal(["quantized"], Names(graph.Closure(["quantized", "quantized"])));
    }

    [Fact]
    public void Unknown_targets_are_named_with_a_suggestion()
    {
        var graph = GraphOf("data", "train:data");
        Assert.Equal(["unknown stage 'trian'; did you mean 'train'?", "unknown stage 'zzz'; expected one of data, train"],
            graph.UnknownTargets(["data", "trian", "zzz"]));
        var e = Assert.Throws<KeyNotFoundException>(() => graph.Closure(["trian"]));
        Assert.Equal("unknown stage 'trian'; did you mean 'train'?", e.Message);
    }

    [Fact]
    public void Cycles_are_found_with_their_path()
    {
        var deps = new Dictionary<string, string[]> { ["a"] = ["b"], ["b"] = ["c"], ["c"] = ["a"], ["d"] = [] };
        Assert.Equal(["a", "b", "c", "a"], PipelineGraph.FindCycle(["d", "a", "b", "c"], n => deps[n]));
        Assert.Null(PipelineGraph.FindCycle(["d"], n => deps[n]));
        var e = Assert.Throws<ArgumentException>(() => GraphOf("x:y", "y:x"));
        Assert.Equal("the stages form a cycle: x -> y -> x", e.Message);
    }

    [Fact]
    public void Graph_of_a_loaded_spec()
    {
        using var temp = new Spec.TempSpec(Spec.SpecTexts.Recipe, Spec.SpecTexts.RecipeFiles);
        var graph = PipelineGraph.Build(temp.Valid());
        Assert.Equal(["data", "formatted", "stats", "quantized", "adapter", "train", "merged", "probes", "scores"], Names(graph.TopologicalOrder));
        Assert.Equal(["data", "formatted", "quantized", "adapter", "train", "merged"], Names(graph.Closure(["merged"])));
    }
}

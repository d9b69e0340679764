using RaftPipeline.Core.Spec;
using RaftPipeline.Core.Spec.Internal;

namespace RaftPipeline.Core.Graph;

/// <summary>
/// The DAG of a validated spec: stages are nodes, <see cref="StageInput.FromStage"/> inputs are edges from
/// the referenced stage to the consumer. Orders are stable: among stages that are ready together, the one
/// written first in the spec comes first, so plans and logs read in the author's order.
/// </summary>
public sealed class PipelineGraph
{
    readonly Dictionary<string, StageSpec> byName;
    readonly Dictionary<string, int> specIndex;
    readonly Dictionary<string, List<string>> upstream;
    readonly Dictionary<string, List<string>> downstream;

    PipelineGraph(IReadOnlyList<StageSpec> stages)
    {
        Stages = stages;
        byName = stages.ToDictionary(s => s.Name, StringComparer.Ordinal);
        specIndex = stages.Select((s, i) => (s.Name, i)).ToDictionary(p => p.Name, p => p.i, StringComparer.Ordinal);
        upstream = stages.ToDictionary(s => s.Name, s => DirectDependencies(s).ToList(), StringComparer.Ordinal);
        downstream = stages.ToDictionary(s => s.Name, _ => new List<string>(), StringComparer.Ordinal);
        foreach (var stage in stages)
        foreach (var dependency in upstream[stage.Name])
        {
            if (!byName.ContainsKey(dependency))
                throw new ArgumentException($"stage '{stage.Name}' references unknown stage '{dependency}'");
            downstream[dependency].Add(stage.Name);
        }

        var cycle = FindCycle(stages.Select(s => s.Name).ToList(), n => upstream[n]);
        if (cycle is not null)
            throw new ArgumentException($"the stages form a cycle: {string.Join(" -> ", cycle)}");
        TopologicalOrder = Order(stages.Select(s => s.Name)).Select(n => byName[n]).ToList();
    }

    /// <summary>Builds the graph; throws <see cref="ArgumentException"/> on a dangling reference or a cycle (the loader reports those first).</summary>
    public static PipelineGraph Build(PipelineSpec spec) => new(spec.Stages);

    /// <summary>The stages in spec order.</summary>
    public IReadOnlyList<StageSpec> Stages { get; }

    /// <summary>Every stage after all the stages it depends on; ties in spec order.</summary>
    public IReadOnlyList<StageSpec> TopologicalOrder { get; }

    public StageSpec this[string name] => byName[name];

    public bool Contains(string name) => byName.ContainsKey(name);

    /// <summary>The stages <paramref name="stage"/> reads from directly, in the order its inputs name them.</summary>
    public IReadOnlyList<string> Upstream(string stage) => upstream[stage];

    /// <summary>The stages that read <paramref name="stage"/>'s artifact directly, in spec order.</summary>
    public IReadOnlyList<string> Downstream(string stage) => downstream[stage];

    /// <summary>Every stage <paramref name="stage"/> depends on, directly or not, in topological order.</summary>
    public IReadOnlyList<string> Ancestors(string stage) =>
        Order(Reach(stage, upstream)).Where(n => n != stage).ToList();

    /// <summary>Every stage that depends on <paramref name="stage"/>, directly or not, in topological order.</summary>
    public IReadOnlyList<string> Descendants(string stage) =>
        Order(Reach(stage, downstream)).Where(n => n != stage).ToList();

    /// <summary>
    /// The named targets and everything they need, in topological order: what <c>raft run spec.yaml STAGE...</c>
    /// runs (as <c>dvc repro STAGE</c> does). Throws <see cref="KeyNotFoundException"/> naming an unknown target;
    /// check first with <see cref="UnknownTargets"/> to report every one.
    /// </summary>
    public IReadOnlyList<StageSpec> Closure(IEnumerable<string> targets)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var target in targets)
        {
            if (!byName.ContainsKey(target))
                throw new KeyNotFoundException(UnknownStageMessage(target));
            names.UnionWith(Reach(target, upstream));
        }
        return Order(names).Select(n => byName[n]).ToList();
    }

    /// <summary>One message per target that names no stage, each with a did-you-mean when one is close.</summary>
    public IReadOnlyList<string> UnknownTargets(IEnumerable<string> targets) =>
        targets.Where(t => !byName.ContainsKey(t)).Select(UnknownStageMessage).ToList();

    string UnknownStageMessage(string target) =>
        $"unknown stage '{target}'{DidYouMean.Hint(target, byName.Keys, $"expected one of {string.Join(", ", Stages.Select(s => s.Name))}")}";

    /// <summary>
    /// A cycle among <paramref name="nodes"/> as a path that starts and ends at the same node
    /// (<c>a -> b -> a</c>, following dependencies), or null. The first cycle met when walking in the given order.
    /// </summary>
    public static IReadOnlyList<string>? FindCycle(IReadOnlyList<string> nodes, Func<string, IEnumerable<string>> dependencies)
    {
        var known = new HashSet<string>(nodes, StringComparer.Ordinal);
        var state = new Dictionary<string, int>(StringComparer.Ordinal); // 1: on the current path, 2: done
        var path = new List<string>();

        List<string>? Visit(string node)
        {
            state[node] = 1;
            path.Add(node);
            foreach (var next in dependencies(node).Where(known.Contains))
            {
                if (state.GetValueOrDefault(next) == 1)
                    return [.. path.Skip(path.IndexOf(next)), next];
                if (state.GetValueOrDefault(next) == 0 && Visit(next) is { } found)
                    return found;
            }
            path.RemoveAt(path.Count - 1);
            state[node] = 2;
            return null;
        }

        foreach (var node in nodes)
            if (state.GetValueOrDefault(node) == 0 && Visit(node) is { } cycle)
                return cycle;
        return null;
    }

    static IEnumerable<string> DirectDependencies(StageSpec stage) =>
        stage.Inputs.Values.SelectMany(v => v).OfType<StageInput.FromStage>().Select(i => i.Stage).Distinct();

    HashSet<string> Reach(string start, Dictionary<string, List<string>> edges)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal) { start };
        var stack = new Stack<string>([start]);
        while (stack.Count > 0)
            foreach (var next in edges[stack.Pop()])
                if (seen.Add(next))
                    stack.Push(next);
        return seen;
    }

    /// <summary>Kahn's algorithm over the subgraph <paramref name="subset"/>, always taking the ready stage written first.</summary>
    List<string> Order(IEnumerable<string> subset)
    {
        var members = new HashSet<string>(subset, StringComparer.Ordinal);
        var pending = members.ToDictionary(n => n, n => upstream[n].Count(members.Contains), StringComparer.Ordinal);
        var ready = new PriorityQueue<string, int>();
        foreach (var (name, count) in pending)
            if (count == 0) ready.Enqueue(name, specIndex[name]);
        var order = new List<string>(members.Count);
        while (ready.TryDequeue(out var name, out _))
        {
            order.Add(name);
            foreach (var next in downstream[name])
                if (members.Contains(next) && --pending[next] == 0)
                    ready.Enqueue(next, specIndex[next]);
        }
        return order;
    }
}

using RaftPipeline.Core.Graph;
using RaftPipeline.Core.Spec;

namespace RaftPipeline.MSBuild.Check;

/// <summary>The stages whose artifacts a build hands to the project: the named targets, or the stages nothing else in the run reads.</summary>
public static class FinalStages
{
    public static HashSet<string> Of(PipelineGraph graph, IReadOnlyList<StageSpec> ordered, IReadOnlyList<string> targets)
    {
        if (targets.Count > 0) return new HashSet<string>(targets, StringComparer.Ordinal);
        var members = new HashSet<string>(ordered.Select(s => s.Name), StringComparer.Ordinal);
        return new HashSet<string>(members.Where(name => !graph.Downstream(name).Any(members.Contains)), StringComparer.Ordinal);
    }
}

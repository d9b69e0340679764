namespace RaftPipeline.MSBuild.Check;

/// <summary>
/// The answer of <see cref="PipelineCheck"/>: up to date (every stage's key is in the cache, so running the tool
/// would only reuse) or not, with the reason for people, and each stage's key and artifact when known.
/// </summary>
/// <param name="Pipeline">The spec's name; null when the spec could not be loaded.</param>
/// <param name="RunsDirectory">Where this pipeline's run folders go (the item's RunDir, or runs/&lt;pipeline&gt;/ beside the spec).</param>
/// <param name="Stages">The stages a run would go through, in order; empty when the keys could not be computed.</param>
public sealed record PipelineCheckResult(
    bool UpToDate,
    string Reason,
    string? Pipeline,
    string? RunsDirectory,
    IReadOnlyList<CheckedStage> Stages)
{
    public int CachedCount => Stages.Count(s => s.Cached);

    public static PipelineCheckResult Stale(string reason, string? pipeline = null, string? runsDirectory = null, IReadOnlyList<CheckedStage>? stages = null) =>
        new(false, reason, pipeline, runsDirectory, stages ?? []);
}

/// <param name="ArtifactDirectory">The artifact's data folder in the cache (what downstream stages and the build read).</param>
/// <param name="Final">Whether this stage is one the build asked for: a named target, or, with none named, a stage nothing else reads.</param>
public sealed record CheckedStage(string Name, string Kind, string Key, bool Cached, string ArtifactDirectory, bool Final);

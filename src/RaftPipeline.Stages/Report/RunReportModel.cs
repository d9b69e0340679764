using RaftPipeline.Core.Runs;

namespace RaftPipeline.Stages.Report;

/// <summary>
/// Everything the run report shows, read from one run folder. Both writers (Markdown and HTML) render this same
/// model, so the two files never disagree.
/// </summary>
/// <param name="Lock">Null when <c>raft.lock.json</c> is missing or unreadable (a note says which).</param>
/// <param name="ResolvedSpec">The text of <c>spec.resolved.yaml</c>, null when missing.</param>
/// <param name="Notes">Problems with the run folder as a whole.</param>
public sealed record RunReportModel(
    string Title,
    RunLock? Lock,
    string? ResolvedSpec,
    IReadOnlyList<string> Notes,
    IReadOnlyList<StageReport> Stages);

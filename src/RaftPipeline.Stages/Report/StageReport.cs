using RaftPipeline.Core.Engine;

namespace RaftPipeline.Stages.Report;

/// <summary>One stage as the report shows it: its lock record (when known) and what its report folder holds.</summary>
/// <param name="Kind">From the lock, else guessed from the files of <c>stages/&lt;name&gt;/</c>; null when neither says.</param>
/// <param name="Section">The kind's own content (statistics, curves, tables, samples); null for kinds without one.</param>
/// <param name="Notes">What was missing or malformed, in words a reader can act on.</param>
/// <param name="Files">The files of the stage's report folder, relative to the run folder.</param>
public sealed record StageReport(
    string Name,
    string? Kind,
    StageRecord? Record,
    StageSection? Section,
    IReadOnlyList<string> Notes,
    IReadOnlyList<string> Files);

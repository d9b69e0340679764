namespace RaftPipeline.Core.Engine;

/// <summary>One line of <c>raft plan</c>: a stage, its key, and whether the next run reuses it or why it must run.</summary>
/// <param name="Reasons">Empty when reused; else why it must run (new parameters, upstream changed, input changed, never built, ...).</param>
public sealed record PlanEntry(string Stage, string Kind, string Key, bool Reuse, IReadOnlyList<string> Reasons);

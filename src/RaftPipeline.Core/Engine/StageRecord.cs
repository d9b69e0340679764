using System.Text.Json.Nodes;

namespace RaftPipeline.Core.Engine;

/// <summary>One stage's line in the lock file: what it was, what it was built from and what happened.</summary>
/// <param name="Key">Null only when the key could not be computed (an external input failed to hash).</param>
/// <param name="Inputs">Slot → inputs, as in the manifest: <c>{"stage","key"}</c> or <c>{"path","sha256"}</c>.</param>
/// <param name="Artifact">The artifact's data folder when reused or ran.</param>
/// <param name="Error">Why it failed, was skipped or cancelled.</param>
public sealed record StageRecord(
    string Name,
    string Kind,
    int? ExecutorVersion,
    string? Key,
    StageStatus Status,
    double DurationSeconds,
    string? Artifact,
    JsonObject Parameters,
    JsonObject Inputs,
    JsonObject Metrics,
    string? Error)
{
    /// <summary>Why the cached artifact of this key was dropped and the stage ran again (a missing file, a tampered input...), or null.</summary>
    public string? Dropped { get; init; }
}

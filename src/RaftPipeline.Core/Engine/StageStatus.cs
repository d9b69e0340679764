namespace RaftPipeline.Core.Engine;

/// <summary>What happened to a stage in a run, as the lock file spells it (lower case).</summary>
public enum StageStatus
{
    /// <summary>Not yet reached (only while a run is in progress).</summary>
    Pending,
    /// <summary>Running now (only while a run is in progress).</summary>
    Running,
    /// <summary>Its key was already in the cache; nothing ran.</summary>
    Reused,
    /// <summary>It ran and its artifact was published.</summary>
    Ran,
    /// <summary>It ran and threw; its error is recorded.</summary>
    Failed,
    /// <summary>It did not run: an upstream stage failed, or the run was cancelled before it started.</summary>
    Skipped,
    /// <summary>It was running when the run was cancelled; nothing of it was published.</summary>
    Cancelled,
    /// <summary>
    /// It was running (or waiting) when the process running the run died (kill -9, power loss, crash): no lock file
    /// records it as such, readers infer it (see <see cref="Runs.RunLiveness"/>). Nothing of it was published.
    /// </summary>
    Interrupted,
}

public static class StageStatusNames
{
    public static string ToText(this StageStatus status) => status.ToString().ToLowerInvariant();

    public static StageStatus Parse(string text) =>
        Enum.TryParse<StageStatus>(text, ignoreCase: true, out var s) && !int.TryParse(text, out _)
            ? s
            : throw new FormatException($"'{text}' is not a stage status (pending, running, reused, ran, failed, skipped, cancelled, interrupted)");
}

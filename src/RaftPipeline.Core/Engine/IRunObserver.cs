namespace RaftPipeline.Core.Engine;

/// <summary>
/// Watches a run: the console renderers (live or plain lines) and the MSBuild logger implement this; the
/// engine never writes to a console itself. Calls come from the thread running the stage.
/// </summary>
public interface IRunObserver
{
    /// <summary>A line from the engine itself (waiting for the cache lock, where the run folder is, ...).</summary>
    void Message(string text);

    /// <summary>The stages this run will go through, in order, with their keys and whether each is already built.</summary>
    void RunStarted(IReadOnlyList<PlannedStage> stages);

    void StageStarted(string stage);

    void StageLog(string stage, string message);

    void StageProgress(string stage, string step, long done, long total, string? status);

    void StageFinished(StageRecord record);
}

/// <summary>A stage as the run sees it before starting: its key and whether the cache already has it.</summary>
public sealed record PlannedStage(string Name, string Kind, string Key, bool InCache);

/// <summary>An observer that ignores everything.</summary>
public sealed class NullRunObserver : IRunObserver
{
    public static readonly NullRunObserver Instance = new();
    public void Message(string text) { }
    public void RunStarted(IReadOnlyList<PlannedStage> stages) { }
    public void StageStarted(string stage) { }
    public void StageLog(string stage, string message) { }
    public void StageProgress(string stage, string step, long done, long total, string? status) { }
    public void StageFinished(StageRecord record) { }
}

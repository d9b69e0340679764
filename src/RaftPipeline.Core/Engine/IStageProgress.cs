namespace RaftPipeline.Core.Engine;

/// <summary>
/// How a stage tells the world what it is doing, without knowing whether a terminal, a CI log or an
/// MSBuild log is listening.
/// </summary>
public interface IStageProgress
{
    /// <summary>A line for the log.</summary>
    void Log(string message);

    /// <summary>Progress of a long step (e.g. training steps): done of total, with an optional status.</summary>
    void Report(string step, long done, long total, string? status = null);
}

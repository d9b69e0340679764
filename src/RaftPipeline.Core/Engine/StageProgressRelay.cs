using RaftPipeline.Core.Runs;

namespace RaftPipeline.Core.Engine;

/// <summary>The <see cref="IStageProgress"/> a stage receives: its log lines go to run.log and the observer, its progress to the observer.</summary>
sealed class StageProgressRelay(string stage, IRunObserver observer, RunLog log) : IStageProgress
{
    public void Log(string message)
    {
        log.Write(stage, message);
        observer.StageLog(stage, message);
    }

    public void Report(string step, long done, long total, string? status = null) =>
        observer.StageProgress(stage, step, done, total, status);
}

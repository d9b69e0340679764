using RaftPipeline.Core.Runs;

namespace RaftPipeline.Core.Engine;

/// <summary>A finished (or stopped) run: its folder and its lock file.</summary>
public sealed record RunResult(RunFolder Folder, RunLock Lock)
{
    public RunOutcome Outcome => Lock.Status switch
    {
        "succeeded" => RunOutcome.Succeeded,
        "cancelled" => RunOutcome.Cancelled,
        _ => RunOutcome.Failed,
    };

    /// <summary>The first failed stage's record, if any.</summary>
    public StageRecord? FirstFailure => Lock.Stages.FirstOrDefault(s => s.Status == StageStatus.Failed);
}

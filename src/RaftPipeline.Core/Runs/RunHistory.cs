using RaftPipeline.Core.Engine;

namespace RaftPipeline.Core.Runs;

/// <summary>The lock files of a pipeline's earlier runs (<c>runs/&lt;pipeline&gt;/*/raft.lock.json</c>), newest first.</summary>
public sealed class RunHistory
{
    readonly IReadOnlyList<RunLock> _runs;

    RunHistory(IReadOnlyList<RunLock> runs) => _runs = runs;

    public static RunHistory Empty { get; } = new([]);

    public IReadOnlyList<RunLock> Runs => _runs;

    /// <summary>Reads every run under <paramref name="pipelineRunsDirectory"/>; a folder without a readable lock file is passed over.</summary>
    public static RunHistory Load(string pipelineRunsDirectory)
    {
        if (!Directory.Exists(pipelineRunsDirectory)) return Empty;
        var runs = new List<RunLock>();
        foreach (var dir in Directory.EnumerateDirectories(pipelineRunsDirectory))
        {
            var path = Path.Combine(dir, RunLock.FileName);
            if (!File.Exists(path)) continue;
            try
            {
                runs.Add(RunLock.Read(path));
            }
            catch (Exception e) when (e is InvalidDataException or System.Text.Json.JsonException or IOException)
            {
                // A run folder that is not ours or was cut short: history is advisory (it only explains plans).
            }
        }
        return new RunHistory(runs.OrderByDescending(r => r.StartedUtc).ToList());
    }

    /// <summary>The newest record of <paramref name="stage"/> that produced an artifact (ran or reused), with its run.</summary>
    public (RunLock Run, StageRecord Stage)? LastBuilt(string stage)
    {
        foreach (var run in _runs)
            if (run.Stage(stage) is { Status: StageStatus.Ran or StageStatus.Reused, Key: not null } record)
                return (run, record);
        return null;
    }
}

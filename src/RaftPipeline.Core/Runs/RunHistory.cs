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

    /// <summary>
    /// Rewrites every lock file under <paramref name="pipelineRunsDirectory"/> that still says "running" although no
    /// process holds its run (see <see cref="RunLiveness"/>) as "interrupted". Returns each folder so marked and the
    /// stage its process died in (null when between stages). A folder that cannot be rewritten is left as it is:
    /// readers infer the same status.
    /// </summary>
    public static IReadOnlyList<(string Folder, string? Stage)> MarkInterrupted(string pipelineRunsDirectory)
    {
        var marked = new List<(string, string?)>();
        if (!Directory.Exists(pipelineRunsDirectory)) return marked;
        foreach (var dir in Directory.EnumerateDirectories(pipelineRunsDirectory).Order(StringComparer.Ordinal))
        {
            var path = Path.Combine(dir, RunLock.FileName);
            try
            {
                if (!File.Exists(path) || RunLock.ReadRecorded(path) is not { Status: "running" } recorded || RunLiveness.IsHeld(dir)) continue;
                var interrupted = recorded.AsInterrupted();
                interrupted.Write(path);
                marked.Add((dir, recorded.Stages.FirstOrDefault(s => s.Status == StageStatus.Running)?.Name));
            }
            catch (Exception e) when (e is InvalidDataException or System.Text.Json.JsonException or IOException or UnauthorizedAccessException)
            {
                // Not ours, unreadable or read-only: history is advisory.
            }
        }
        return marked;
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

using System.Globalization;
using System.Text.Json.Nodes;
using RaftPipeline.Core.Engine;
using RaftPipeline.Core.Spec;
using RaftPipeline.Core.Store;

namespace RaftPipeline.Core.Runs;

/// <summary>
/// <c>raft.lock.json</c>: the plain, diffable record of what a run built from what (as <c>dvc.lock</c> is).
/// Indented JSON, keys in a fixed order, stages in the order they were run (topological, ties in spec order).
/// Rewritten after every stage, so a run that is killed still leaves what it finished.
/// </summary>
public sealed record RunLock(
    string Pipeline,
    string ToolVersion,
    string SpecFile,
    long Seed,
    string Device,
    string Cache,
    IReadOnlyList<string> Targets,
    DateTime StartedUtc,
    DateTime? FinishedUtc,
    string Status,
    IReadOnlyList<StageRecord> Stages)
{
    public const string FileName = "raft.lock.json";

    /// <summary>
    /// The run's <c>--set</c> overrides, as given; null when unknown (a lock file written before they were recorded).
    /// <c>cache gc</c> keeps the latest run of each set of overrides, so a smoke run does not displace the real one.
    /// </summary>
    public IReadOnlyList<string>? Overrides { get; init; }

    public StageRecord? Stage(string name) => Stages.FirstOrDefault(s => s.Name == name);

    public JsonObject ToJson()
    {
        var stages = new JsonObject();
        foreach (var s in Stages)
        {
            var o = new JsonObject
            {
                ["kind"] = s.Kind,
                ["executor_version"] = s.ExecutorVersion,
                ["key"] = s.Key,
                ["status"] = s.Status.ToText(),
                ["duration_s"] = Math.Round(s.DurationSeconds, 3),
                ["artifact"] = s.Artifact,
                ["parameters"] = s.Parameters.DeepClone(),
                ["inputs"] = s.Inputs.DeepClone(),
                ["metrics"] = s.Metrics.DeepClone(),
            };
            if (s.Error is not null) o["error"] = s.Error;
            if (s.Dropped is not null) o["dropped"] = s.Dropped;
            stages[s.Name] = o;
        }
        return new JsonObject
        {
            ["pipeline"] = Pipeline,
            ["tool_version"] = ToolVersion,
            ["spec"] = SpecFile,
            ["seed"] = Seed,
            ["device"] = Device,
            ["cache"] = Cache,
            ["targets"] = new JsonArray(Targets.Select(t => (JsonNode)JsonValue.Create(t)).ToArray()),
            ["overrides"] = Overrides is null ? null : new JsonArray(Overrides.Select(t => (JsonNode)JsonValue.Create(t)).ToArray()),
            ["started_utc"] = FormatTime(StartedUtc),
            ["finished_utc"] = FinishedUtc is { } f ? FormatTime(f) : null,
            ["status"] = Status,
            ["stages"] = stages,
        };
    }

    public void Write(string path) => JsonFiles.WriteAtomically(path, ToJson());

    /// <summary>
    /// The last write of a run that failed for lack of storage: atomically when possible, else over the old file in place
    /// (a full disk has no room for a temporary copy, but the old file's blocks are still there). Never throws: when
    /// both fail, readers still see the run as interrupted (its liveness lock dies with the process).
    /// </summary>
    public void WriteFinal(string path)
    {
        try
        {
            Write(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            try { JsonFiles.OverwriteInPlace(path, JsonFiles.ToText(ToJson())); }
            catch (Exception again) when (again is IOException or UnauthorizedAccessException) { /* nothing more to try */ }
        }
    }

    public const string InterruptedStatus = "interrupted";

    /// <summary>
    /// Reads a lock file. One that still says "running" while no process holds its run folder's liveness lock
    /// (<see cref="RunLiveness"/>) belonged to a process that died: it reads as "interrupted", its running and pending
    /// stages as <see cref="StageStatus.Interrupted"/>, so no reader shows a dead run as running.
    /// </summary>
    public static RunLock Read(string path)
    {
        var recorded = ReadRecorded(path);
        return recorded.Status == "running" && !RunLiveness.IsHeld(Path.GetDirectoryName(Path.GetFullPath(path))!)
            ? recorded.AsInterrupted()
            : recorded;
    }

    /// <summary>This run as a process that died would have left it: running and pending stages interrupted.</summary>
    public RunLock AsInterrupted() => this with
    {
        Status = InterruptedStatus,
        Stages = Stages.Select(s => s.Status is StageStatus.Running or StageStatus.Pending
            ? s with
            {
                Status = StageStatus.Interrupted,
                Error = s.Status == StageStatus.Running
                    ? "the process running this stage stopped before it finished (killed or crashed); nothing of it was published"
                    : "not run: the process running the run stopped before reaching it",
            }
            : s).ToList(),
    };

    /// <summary>The lock file exactly as written, without the liveness check.</summary>
    public static RunLock ReadRecorded(string path)
    {
        var o = JsonFiles.ReadObject(path);
        try
        {
            var stages = new List<StageRecord>();
            foreach (var (name, node) in o["stages"] as JsonObject ?? new JsonObject())
            {
                var s = (JsonObject)node!;
                stages.Add(new StageRecord(
                    name,
                    s["kind"]!.GetValue<string>(),
                    s["executor_version"]?.GetValue<int>(),
                    s["key"]?.GetValue<string>(),
                    StageStatusNames.Parse(s["status"]!.GetValue<string>()),
                    s["duration_s"]?.GetValue<double>() ?? 0,
                    s["artifact"]?.GetValue<string>(),
                    s["parameters"] as JsonObject ?? new JsonObject(),
                    s["inputs"] as JsonObject ?? new JsonObject(),
                    s["metrics"] as JsonObject ?? new JsonObject(),
                    s["error"]?.GetValue<string>())
                {
                    Dropped = s["dropped"]?.GetValue<string>(),
                });
            }
            return new RunLock(
                o["pipeline"]!.GetValue<string>(),
                o["tool_version"]?.GetValue<string>() ?? "",
                o["spec"]?.GetValue<string>() ?? "",
                o["seed"]?.GetValue<long>() ?? 0,
                o["device"]?.GetValue<string>() ?? "",
                o["cache"]?.GetValue<string>() ?? "",
                (o["targets"] as JsonArray)?.Select(t => t!.GetValue<string>()).ToList() ?? [],
                ParseTime(o["started_utc"]!.GetValue<string>()),
                o["finished_utc"]?.GetValue<string>() is { } f ? ParseTime(f) : null,
                o["status"]?.GetValue<string>() ?? "",
                stages)
            {
                Overrides = (o["overrides"] as JsonArray)?.Select(t => t!.GetValue<string>()).ToList(),
            };
        }
        catch (Exception e) when (e is InvalidOperationException or NullReferenceException or FormatException or InvalidCastException)
        {
            throw new InvalidDataException($"{path}: not a raft lock file ({e.Message})");
        }
    }

    public static string FormatTime(DateTime utc) => utc.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);

    static DateTime ParseTime(string s) =>
        DateTime.Parse(s, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal);

    public static string DeviceName(DeviceKind device) => device.ToString().ToLowerInvariant();
}

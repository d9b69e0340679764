using System.Diagnostics;
using RaftPipeline.Core.Engine;

namespace RaftPipeline.Cli.Console;

/// <summary>
/// Progress as plain lines, for CI logs and redirected output: one line per stage start and end, stage log
/// lines indented, and progress at most every 10% or every 10 seconds per step so a log stays readable.
/// </summary>
public sealed class PlainRunRenderer(TextWriter output) : IRunObserver
{
    readonly object _gate = new();
    readonly Dictionary<string, (int Index, string Kind)> _stages = new(StringComparer.Ordinal);
    readonly Dictionary<(string, string), (long Percent, Stopwatch Clock)> _lastReport = new();
    readonly ProgressEta _eta = new();

    public void Message(string text) => Write(text);

    public void RunStarted(IReadOnlyList<PlannedStage> stages)
    {
        lock (_gate)
            for (var i = 0; i < stages.Count; i++) _stages[stages[i].Name] = (i + 1, stages[i].Kind);
        var reuse = stages.Count(s => s.InCache);
        Write($"{stages.Count} stage{(stages.Count == 1 ? "" : "s")}: {reuse} in the cache, {stages.Count - reuse} to run");
    }

    public void StageStarted(string stage) => Write($"{Prefix(stage)} {stage}: running");

    public void StageLog(string stage, string message) => Write($"  {stage}: {message}");

    public void StageProgress(string stage, string step, long done, long total, string? status)
    {
        var percent = total > 0 ? done * 100 / total : 0;
        var eta = _eta.Suffix(stage, step, done, total); // every report feeds the estimate, shown or not
        lock (_gate)
        {
            if (_lastReport.TryGetValue((stage, step), out var last)
                && percent < last.Percent + 10 && last.Clock.Elapsed < TimeSpan.FromSeconds(10) && done != total)
                return;
            _lastReport[(stage, step)] = (percent, Stopwatch.StartNew());
        }
        Write($"  {stage}: {step} {done}/{total}{(status is null ? "" : $" {status}")}{eta}");
    }

    public void StageFinished(StageRecord record)
    {
        var line = $"{Prefix(record.Name)} {record.Name}: {record.Status.ToText()}";
        line += record.Status switch
        {
            StageStatus.Reused => $" {Formats.ShortKey(record.Key)}",
            StageStatus.Ran => $" {Formats.ShortKey(record.Key)} in {Formats.Duration(record.DurationSeconds)}",
            _ => record.Error is null ? "" : $": {record.Error}",
        };
        Write(line);
    }

    string Prefix(string stage)
    {
        lock (_gate)
            return _stages.TryGetValue(stage, out var s) ? $"[{s.Index}/{_stages.Count}]" : "[?]";
    }

    void Write(string line)
    {
        lock (_gate)
        {
            output.WriteLine(line);
            output.Flush();
        }
    }
}

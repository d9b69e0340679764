using System.Diagnostics;

namespace RaftPipeline.Cli.Console;

/// <summary>
/// Time left for a stage's step (training steps, generated rows), from its average rate since its first report: the
/// first report is the baseline, so set-up time before it (loading the model) does not skew the estimate. No estimate
/// before <see cref="MinimumElapsed"/> has passed (too noisy) or once the step is done.
/// </summary>
public sealed class ProgressEta
{
    public static readonly TimeSpan MinimumElapsed = TimeSpan.FromSeconds(1);

    readonly Func<TimeSpan> _clock;
    readonly Dictionary<(string Stage, string Step), (long Done, TimeSpan At)> _first = new();
    readonly Lock _gate = new();

    /// <param name="clock">A monotonic time (tests pass their own); default: a stopwatch started here.</param>
    public ProgressEta(Func<TimeSpan>? clock = null)
    {
        var watch = Stopwatch.StartNew();
        _clock = clock ?? (() => watch.Elapsed);
    }

    /// <summary>The estimated time left, or null when there is none yet.</summary>
    public TimeSpan? Remaining(string stage, string step, long done, long total)
    {
        var now = _clock();
        lock (_gate)
        {
            if (!_first.TryGetValue((stage, step), out var first) || done < first.Done)
            {
                _first[(stage, step)] = (done, now); // a step that starts over (a new epoch of eval rows) gets a new baseline
                return null;
            }
            var elapsed = now - first.At;
            if (done >= total || done == first.Done || elapsed < MinimumElapsed) return null;
            return elapsed * ((double)(total - done) / (done - first.Done));
        }
    }

    /// <summary>" ETA 1m05s", or "" without an estimate.</summary>
    public string Suffix(string stage, string step, long done, long total) =>
        Remaining(stage, step, done, total) is { } left ? $" ETA {Formats.Duration(left.TotalSeconds)}" : "";
}

using System.Diagnostics;
using RaftPipeline.Core.Engine;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace RaftPipeline.Cli.Console;

/// <summary>
/// Live progress on an interactive terminal (Spectre.Console): a table of the stages with their key, status,
/// elapsed time and a bar for the step a stage reports (<see cref="IStageProgress.Report"/>), and the last few
/// log lines under it. Redrawn at most ten times a second; the final table stays on screen.
/// </summary>
public sealed class LiveRunRenderer(IAnsiConsole console) : IRunObserver
{
    const int LogLines = 6;
    static readonly TimeSpan RefreshEvery = TimeSpan.FromMilliseconds(100);

    readonly object _gate = new();
    readonly List<Row> _rows = [];
    readonly List<string> _messages = [];
    readonly Queue<string> _log = new();
    readonly ProgressEta _eta = new();
    readonly Stopwatch _sinceRefresh = Stopwatch.StartNew();
    LiveDisplayContext? _live;

    sealed class Row(string name, string kind, string key, bool inCache)
    {
        public string Name { get; } = name;
        public string Kind { get; } = kind;
        public string Key { get; } = key;
        public bool InCache { get; } = inCache;
        public StageStatus Status { get; set; } = StageStatus.Pending;
        public Stopwatch? Clock { get; set; }
        public double? Seconds { get; set; }
        public (string Step, long Done, long Total, string? Status)? Progress { get; set; }
        public string Eta { get; set; } = "";
        public string? Error { get; set; }
    }

    /// <summary>Shows the live display while <paramref name="run"/> runs with this renderer as its observer.</summary>
    public async Task<T> RunAsync<T>(Func<IRunObserver, Task<T>> run)
    {
        T result = default!;
        await console.Live(Render()).AutoClear(false).Overflow(VerticalOverflow.Ellipsis).StartAsync(async context =>
        {
            lock (_gate) _live = context;
            try
            {
                result = await run(this);
            }
            finally
            {
                lock (_gate)
                {
                    context.UpdateTarget(Render());
                    context.Refresh();
                    _live = null;
                }
            }
        });
        return result;
    }

    public void Message(string text) => Update(() => _messages.Add(text), force: true);

    public void RunStarted(IReadOnlyList<PlannedStage> stages) =>
        Update(() => _rows.AddRange(stages.Select(s => new Row(s.Name, s.Kind, s.Key, s.InCache))), force: true);

    public void StageStarted(string stage) => Update(() =>
    {
        if (Find(stage) is not { } row) return;
        row.Status = StageStatus.Running;
        row.Clock = Stopwatch.StartNew();
    }, force: true);

    public void StageLog(string stage, string message) => Update(() =>
    {
        _log.Enqueue($"{stage}: {message}");
        while (_log.Count > LogLines) _log.Dequeue();
    }, force: false);

    public void StageProgress(string stage, string step, long done, long total, string? status) =>
        Update(() =>
        {
            if (Find(stage) is not { } row) return;
            row.Progress = (step, done, total, status);
            row.Eta = _eta.Suffix(stage, step, done, total);
        }, force: done == total);

    public void StageFinished(StageRecord record) => Update(() =>
    {
        if (Find(record.Name) is not { } row) return;
        row.Status = record.Status;
        row.Seconds = record.DurationSeconds;
        row.Clock = null;
        row.Error = record.Error;
    }, force: true);

    Row? Find(string stage) => _rows.FirstOrDefault(r => r.Name == stage);

    void Update(Action change, bool force)
    {
        lock (_gate)
        {
            change();
            if (_live is null || (!force && _sinceRefresh.Elapsed < RefreshEvery)) return;
            _live.UpdateTarget(Render());
            _live.Refresh();
            _sinceRefresh.Restart();
        }
    }

    IRenderable Render()
    {
        var table = new Table().Border(TableBorder.Simple)
            .AddColumn("stage").AddColumn("kind").AddColumn("key").AddColumn("status").AddColumn("progress").AddColumn(new TableColumn("time").RightAligned());
        foreach (var row in _rows)
        {
            var seconds = row.Clock?.Elapsed.TotalSeconds ?? row.Seconds;
            table.AddRow(
                new Markup(Markup.Escape(row.Name)),
                new Markup($"[grey]{Markup.Escape(row.Kind)}[/]"),
                new Markup($"[grey]{Formats.ShortKey(row.Key)}[/]"),
                new Markup(StatusMarkup(row)),
                new Markup(ProgressMarkup(row)),
                new Markup(seconds is { } s ? Formats.Duration(s) : ""));
        }
        var parts = new List<IRenderable>();
        parts.AddRange(_messages.Select(m => new Markup($"[grey]{Markup.Escape(m)}[/]")));
        parts.Add(table);
        parts.AddRange(_log.Select(l => new Markup($"[grey]  {Markup.Escape(l)}[/]")));
        foreach (var failed in _rows.Where(r => r.Status == StageStatus.Failed))
            parts.Add(new Markup($"[red]{Markup.Escape(failed.Name)} failed:[/] {Markup.Escape(failed.Error ?? "")}"));
        return new Rows(parts);
    }

    static string StatusMarkup(Row row) => row.Status switch
    {
        StageStatus.Pending => row.InCache ? "[grey]in cache[/]" : "[grey]waiting[/]",
        StageStatus.Running => "[yellow]running[/]",
        StageStatus.Reused => "[blue]reused[/]",
        StageStatus.Ran => "[green]ran[/]",
        StageStatus.Failed => "[red]failed[/]",
        StageStatus.Skipped => "[grey]skipped[/]",
        StageStatus.Cancelled => "[red]cancelled[/]",
        _ => row.Status.ToText(),
    };

    static string ProgressMarkup(Row row)
    {
        if (row.Status != StageStatus.Running || row.Progress is not { } p || p.Total <= 0) return "";
        const int width = 20;
        var filled = (int)Math.Clamp(p.Done * width / p.Total, 0, width);
        var bar = $"[green]{new string('━', filled)}[/][grey]{new string('━', width - filled)}[/]";
        return $"{bar} {p.Done}/{p.Total} {Markup.Escape(p.Step)}{(p.Status is null ? "" : " " + Markup.Escape(p.Status))}{(row.Eta.Length == 0 ? "" : $"[grey]{Markup.Escape(row.Eta)}[/]")}";
    }
}

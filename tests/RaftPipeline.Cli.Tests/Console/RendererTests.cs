using System.Text.Json.Nodes;
using RaftPipeline.Cli.Console;
using RaftPipeline.Core.Engine;
using Spectre.Console;

namespace RaftPipeline.Cli.Tests.Console;

public class RendererTests
{
    static StageRecord Record(string name, StageStatus status, string? error = null) =>
        new(name, "train", 1, new string('a', 64), status, 1.5, null, new JsonObject(), new JsonObject(), new JsonObject(), error);

    [Fact]
    public void Plain_progress_is_thinned_to_every_ten_percent_and_always_shows_the_end()
    {
        var output = new StringWriter();
        var plain = new PlainRunRenderer(output);
        plain.RunStarted([new PlannedStage("train", "train", new string('a', 64), false)]);
        plain.StageStarted("train");
        for (var step = 1; step <= 100; step++) plain.StageProgress("train", "step", step, 100, null);
        plain.StageFinished(Record("train", StageStatus.Ran));
        var lines = output.ToString().Replace("\r\n", "\n").Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var progress = lines.Where(l => l.StartsWith("  train: step ")).ToList();
        Assert.Equal(["  train: step 1/100", "  train: step 11/100", "  train: step 21/100"], progress.Take(3));
        Assert.Equal("  train: step 100/100", progress[^1]);
        Assert.InRange(progress.Count, 10, 12);
        Assert.Equal("[1/1] train: ran aaaaaaaaaaaa in 1.5 s", lines[^1]);
    }

    [Fact]
    public void The_time_left_comes_from_the_rate_since_the_first_report()
    {
        var now = TimeSpan.Zero;
        var eta = new ProgressEta(() => now);
        Assert.Equal("", eta.Suffix("train", "step", 1, 101));              // the baseline: model loading is not counted
        now = TimeSpan.FromSeconds(0.5);
        Assert.Null(eta.Remaining("train", "step", 2, 101));                // under a second: too noisy
        now = TimeSpan.FromSeconds(10);
        Assert.Equal(TimeSpan.FromSeconds(90), eta.Remaining("train", "step", 11, 101)); // 10 steps in 10 s, 90 left
        Assert.Equal(" ETA 1m30s", eta.Suffix("train", "step", 11, 101));
        Assert.Null(eta.Remaining("train", "step", 101, 101));              // done
        Assert.Equal("", eta.Suffix("eval", "rows", 5, 10));                // each step has its own baseline
    }

    [Fact]
    public async Task The_live_display_shows_the_stage_table_with_statuses_and_the_failure()
    {
        var writer = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(writer),
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.Yes,
        });
        var live = new LiveRunRenderer(console);
        var result = await live.RunAsync(observer =>
        {
            observer.RunStarted([new PlannedStage("rows", "load", new string('b', 64), true), new PlannedStage("train", "train", new string('a', 64), false)]);
            observer.StageFinished(Record("rows", StageStatus.Reused) with { Kind = "load" });
            observer.StageStarted("train");
            observer.StageProgress("train", "step", 5, 10, "loss 1.23");
            observer.StageFinished(Record("train", StageStatus.Failed, "CUDA out of memory"));
            return Task.FromResult(42);
        });
        Assert.Equal(42, result);
        var text = writer.ToString();
        Assert.Contains("reused", text);
        Assert.Contains("bbbbbbbbbbbb", text);
        Assert.Contains("train failed: CUDA out of memory", text);
    }
}

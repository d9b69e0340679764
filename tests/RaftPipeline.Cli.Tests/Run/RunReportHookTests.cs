using RaftPipeline.Cli.Commands.Run;
using RaftPipeline.Core.TestHost;

namespace RaftPipeline.Cli.Tests.Run;

public class RunReportHookTests
{
    [Fact]
    public async Task A_run_writes_its_report_into_the_run_folder_and_prints_where()
    {
        using var p = new CliPipeline();
        var run = Path.Combine(p.Folder, "r");
        var result = await p.RunAsync(new RunOptions(p.SpecPath, [], [], RunDirectory: run));
        Assert.True(result.Exit == 0, result.Error);
        Assert.Contains($"report: {Path.Combine(run, "report.html")}\n", result.Output.Replace("\r\n", "\n"));
        var md = File.ReadAllText(Path.Combine(run, "report.md"));
        Assert.Contains("# Run report: demo", md);
        Assert.Contains("| chat | format | ran |", md);
        Assert.Contains("<title>Run report: demo</title>", File.ReadAllText(Path.Combine(run, "report.html")));
    }

    [Fact]
    public async Task A_failed_run_still_writes_a_report_that_names_the_failure()
    {
        using var p = new CliPipeline();
        var run = Path.Combine(p.Folder, "f");
        var executors = CliPipeline.Echoes().Select(e => e.Kind == "format" ? new FailingExecutor("format", "the chat template has no generation prompt") : e).ToList();
        var result = await p.RunAsync(new RunOptions(p.SpecPath, [], [], RunDirectory: run), executors);
        Assert.Equal(RaftCli.ExitCodes.Failed, result.Exit);
        Assert.Contains($"report: {Path.Combine(run, "report.html")}", result.Output);
        var md = File.ReadAllText(Path.Combine(run, "report.md"));
        Assert.Contains("**failed**", md);
        Assert.Contains("**failed:** the chat template has no generation prompt", md);
        Assert.Contains("| stats | analyze | skipped |", md);
    }
}

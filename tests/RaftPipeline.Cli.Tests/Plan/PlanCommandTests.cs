using RaftPipeline.Cli.Commands.Plan;
using RaftPipeline.Cli.Commands.Run;
using RaftPipeline.Cli.Tests.Run;

namespace RaftPipeline.Cli.Tests.Plan;

public class PlanCommandTests
{
    static (int Exit, string Output, string Error) Plan(CliPipeline p, params string[] overrides)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var exit = new PlanCommand(CliPipeline.Echoes()).Run(p.SpecPath, [], overrides, verify: false, output, error);
        return (exit, output.ToString(), error.ToString());
    }

    [Fact]
    public async Task Plan_shows_each_stage_key_and_whether_it_is_reused_or_why_it_must_run()
    {
        using var p = new CliPipeline();
        var fresh = Plan(p);
        Assert.Equal(0, fresh.Exit);
        Assert.Matches(@"  rows   load     [0-9a-f]{12}  run    never built\n", fresh.Output.Replace("\r\n", "\n"));
        Assert.Contains("3 to run, 0 to reuse", fresh.Output);
        Assert.False(Directory.Exists(p.RunsOfPipeline)); // plan runs nothing

        await p.RunAsync();
        var done = Plan(p);
        Assert.Matches(@"  chat   format   [0-9a-f]{12}  reuse\n", done.Output.Replace("\r\n", "\n"));
        Assert.Contains("everything is up to date", done.Output);

        File.AppendAllText(Path.Combine(p.Folder, "data", "rag.csv"), "바다,색은?,파랑\n");
        var changed = Plan(p, "stats.bins=10");
        Assert.Contains("run    input changed: rag.csv", changed.Output);
        Assert.Contains("run    upstream changed: rows", changed.Output);
        Assert.Contains("run    new parameters: bins 50 → 10; upstream changed: chat", changed.Output);
    }

    [Fact]
    public void Plan_rejects_a_bad_spec_with_exit_code_2()
    {
        using var p = new CliPipeline(CliPipeline.Spec.Replace("kind: analyze", "kind: analyse"));
        var result = Plan(p);
        Assert.Equal(RaftCli.ExitCodes.BadInput, result.Exit);
        Assert.Contains("analyse", result.Error);
    }
}

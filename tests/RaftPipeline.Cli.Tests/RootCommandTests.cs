using RaftPipeline.Cli;

namespace RaftPipeline.Cli.Tests;

public class RootCommandTests
{
    [Fact]
    public void Version_is_the_assembly_version()
    {
        var output = new StringWriter();
        var result = RaftCli.BuildRoot().Parse(["--version"]);
        var exit = result.Invoke(new System.CommandLine.InvocationConfiguration { Output = output });
        Assert.Equal(0, exit);
        Assert.Equal(RaftCli.Version, output.ToString().Trim());
        Assert.Matches(@"^\d+\.\d+\.\d+", RaftCli.Version);
    }

    [Fact]
    public void A_mistyped_verb_gets_the_suggestion_and_not_the_whole_help()
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var exit = RaftCli.Invoke(["rnu", "pipeline.yaml"], new System.CommandLine.InvocationConfiguration { Output = output, Error = error });
        var all = output + "\n" + error;
        Assert.Equal(RaftCli.ExitCodes.BadInput, exit);
        Assert.Contains("'rnu' was not matched. Did you mean one of the following?", all);
        Assert.Contains("\nrun\n", all.ReplaceLineEndings("\n"));
        Assert.DoesNotContain("Usage:", all);
        Assert.DoesNotContain("Commands:", all);
        Assert.Contains("See `dotnet raft --help`.", error.ToString());
    }

    [Fact]
    public void A_mistyped_subverb_points_to_its_verbs_help()
    {
        var error = new StringWriter();
        var exit = RaftCli.Invoke(["cache", "lss"], new System.CommandLine.InvocationConfiguration { Output = new StringWriter(), Error = error });
        Assert.Equal(RaftCli.ExitCodes.BadInput, exit);
        Assert.Contains("See `dotnet raft cache --help`.", error.ToString());
    }
}

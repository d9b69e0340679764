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
}

using System.CommandLine;
using System.Text.Json.Nodes;
using RaftPipeline.Cli;
using RaftPipeline.Core.Spec.Schema;

namespace RaftPipeline.Cli.Tests.Schema;

public class SchemaVerbTests
{
    [Fact]
    public void Prints_the_generated_schema()
    {
        var output = new StringWriter();
        var exit = RaftCli.BuildRoot().Parse(["schema"]).Invoke(new InvocationConfiguration { Output = output });
        Assert.Equal(0, exit);
        Assert.Equal(SpecSchema.ToJsonText(), output.ToString());
        var schema = JsonNode.Parse(output.ToString())!;
        Assert.Equal("https://json-schema.org/draft/2020-12/schema", schema["$schema"]!.GetValue<string>());
    }

    [Fact]
    public void Writes_the_schema_to_a_file()
    {
        var path = Path.Combine(Path.GetTempPath(), "raft-cli-tests", Guid.NewGuid().ToString("N"), "raft.schema.json");
        var output = new StringWriter();
        var exit = RaftCli.BuildRoot().Parse(["schema", "--out", path]).Invoke(new InvocationConfiguration { Output = output });
        Assert.Equal(0, exit);
        Assert.Equal(SpecSchema.ToJsonText(), File.ReadAllText(path));
        Assert.Equal($"wrote {path}\n", output.ToString().ReplaceLineEndings("\n"));
        Directory.Delete(Path.GetDirectoryName(path)!, recursive: true);
    }
}

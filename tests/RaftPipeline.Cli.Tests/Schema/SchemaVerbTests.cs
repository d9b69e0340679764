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

    [Fact]
    public void Markdown_reference_lists_every_stage_input_and_parameter()
    {
        var output = new StringWriter();
        var exit = RaftCli.BuildRoot().Parse(["schema", "--markdown"]).Invoke(new InvocationConfiguration { Output = output });
        Assert.Equal(0, exit);
        var md = output.ToString();
        foreach (var kind in RaftPipeline.Core.Spec.StageKindCatalog.Kinds)
        {
            Assert.Contains($"## `{kind.Name}`", md);
            foreach (var slot in kind.Slots) Assert.Contains($"| `{slot.Name}` |", md);
            foreach (var (key, _) in RaftPipeline.Core.Spec.SpecNames.Fields(kind.ParametersType)) Assert.Contains($"| `{key}` |", md);
        }
        Assert.Contains("| `learning_rate` | a number | 0.0001 | Peak learning rate (after warmup). Range: a value in (0, 1]. |", md);
        Assert.Contains("| `sampling.top_p` | a number | 0.95 |", md);
        Assert.Contains("| `prompts[].name` | a string |  | Short name of the probe, used in reports. Required. |", md);
    }
}

using System.ComponentModel;
using System.Text.Json.Nodes;
using RaftPipeline.Core.Spec;
using RaftPipeline.Core.Spec.Schema;

namespace RaftPipeline.Core.Tests.Spec;

public class SchemaTests
{
    static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "RaftPipeline.sln"))) return dir.FullName;
        throw new InvalidOperationException($"no RaftPipeline.sln above {AppContext.BaseDirectory}");
    }

    [Fact]
    public void Committed_schema_matches_the_records()
    {
        var path = Path.Combine(RepoRoot(), "pipelines", "raft.schema.json");
        Assert.True(File.Exists(path), $"{path} is missing; run `dotnet raft schema --out pipelines/raft.schema.json`");
        var committed = File.ReadAllText(path).ReplaceLineEndings("\n");
        Assert.True(committed == SpecSchema.ToJsonText(),
            "pipelines/raft.schema.json differs from what the parameter records generate; " +
            "regenerate it with `dotnet run --project src/RaftPipeline.Cli -- schema --out pipelines/raft.schema.json` and commit it");
    }

    const string ReferenceStart = "<!-- spec-reference:start (generated from the parameter records; the Core test ReadmeSpecReference keeps it in sync) -->";
    const string ReferenceEnd = "<!-- spec-reference:end -->";

    /// <summary>SpecReference.Markdown() without its title and one heading level down, under the README's "Spec reference".</summary>
    static string ReadmeReference() =>
        string.Join("\n", SpecReference.Markdown().ReplaceLineEndings("\n").TrimEnd('\n').Split('\n')
            .SkipWhile(l => !l.StartsWith("# ", StringComparison.Ordinal)).Skip(1).SkipWhile(l => l.Length == 0)
            .Select(l => l.StartsWith('#') ? "#" + l : l));

    [Fact]
    public void ReadmeSpecReference_matches_the_records()
    {
        var path = Path.Combine(RepoRoot(), "README.md");
        var readme = File.ReadAllText(path).ReplaceLineEndings("\n");
        int start = readme.IndexOf(ReferenceStart, StringComparison.Ordinal), end = readme.IndexOf(ReferenceEnd, StringComparison.Ordinal);
        Assert.True(start >= 0 && end > start, $"{path}: expected the markers {ReferenceStart} and {ReferenceEnd} around the spec reference");
        var expected = "\n" + ReadmeReference() + "\n";
        var committed = readme[(start + ReferenceStart.Length)..end];
        if (committed != expected && Environment.GetEnvironmentVariable("RAFT_UPDATE_README") == "1")
        {
            File.WriteAllText(path, readme[..(start + ReferenceStart.Length)] + expected + readme[end..]);
            return;
        }
        Assert.True(committed == expected, "README.md's spec reference differs from what the parameter records generate; " +
            "update it with `RAFT_UPDATE_README=1 dotnet test tests/RaftPipeline.Core.Tests --filter ReadmeSpecReference` and commit README.md");
    }

    [Fact]
    public void Every_parameter_is_documented_and_in_the_schema()
    {
        var defs = SpecSchema.Generate()["$defs"]!.AsObject();
        foreach (var kind in StageKindCatalog.Kinds)
        {
            var record = defs[kind.ParametersType.Name]!.AsObject();
            Assert.False(string.IsNullOrWhiteSpace(record["description"]?.GetValue<string>()), $"{kind.ParametersType.Name} has no [Description]");
            Assert.False(record["additionalProperties"]!.GetValue<bool>());
            foreach (var (key, property) in SpecNames.Fields(kind.ParametersType))
            {
                Assert.True(record["properties"]![key] is JsonObject, $"{kind.Name}.{key} missing from the schema");
                Assert.True(property.GetCustomAttributes(typeof(DescriptionAttribute), false).Length == 1, $"{kind.ParametersType.Name}.{property.Name} has no [Description]");
            }
        }
    }

    [Fact]
    public void Schema_carries_defaults_ranges_and_enums_from_the_records()
    {
        var defs = SpecSchema.Generate()["$defs"]!.AsObject();
        var lr = defs["TrainParameters"]!["properties"]!["learning_rate"]!;
        Assert.Equal(1e-4, lr["default"]!.GetValue<double>());
        Assert.Equal(0, lr["anyOf"]![0]!["exclusiveMinimum"]!.GetValue<long>());
        Assert.Equal(1, lr["anyOf"]![0]!["maximum"]!.GetValue<long>());
        var optimizer = defs["TrainParameters"]!["properties"]!["optimizer"]!;
        Assert.Equal("""["adamw","adamw_8bit"]""", optimizer["anyOf"]![0]!["enum"]!.ToJsonString());
        Assert.Equal("""[true,false,"auto"]""", defs["TrainParameters"]!["properties"]!["gradient_checkpointing"]!["anyOf"]![0]!["enum"]!.ToJsonString());
        Assert.Equal("""["files"]""", defs["load.inputs"]!["required"]!.ToJsonString());
        Assert.Equal("cot", defs["LoadParameters"]!["properties"]!["columns"]!["default"]!["answer"]!.GetValue<string>());
        Assert.Equal("""["name"]""", defs["ProbePrompt"]!["required"]!.ToJsonString());
    }
}

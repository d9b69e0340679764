using RaftPipeline.Cli.Commands.Run;
using RaftPipeline.Cli.Tests.Init;

namespace RaftPipeline.Cli.Tests.Run;

/// <summary>Changes the process's current folder: runs alone (see <see cref="CurrentFolderCollection"/>).</summary>
[Collection(nameof(CurrentFolderCollection))]
public sealed class DefaultSpecTests
{
    [Fact]
    public void Without_a_spec_run_takes_pipeline_yaml_and_a_bare_stage_name_is_a_stage_of_it()
    {
        using var p = new CliPipeline();
        var before = Environment.CurrentDirectory;
        try
        {
            Environment.CurrentDirectory = p.Folder;
            var (spec, stages) = DefaultSpec.Resolve(null, []);
            Assert.Equal("pipeline.yaml", spec);
            Assert.Empty(stages);
            (spec, stages) = DefaultSpec.Resolve("stats", ["chat"]);
            Assert.Equal("pipeline.yaml", spec);
            Assert.Equal(["stats", "chat"], stages);
            // A file, a folder or a .yaml name is always the spec.
            Assert.Equal("data", DefaultSpec.Resolve("data", []).Spec);
            Assert.Equal("other.yaml", DefaultSpec.Resolve("other.yaml", ["stats"]).Spec);
        }
        finally
        {
            Environment.CurrentDirectory = before;
        }
        // Elsewhere (no pipeline.yaml) the word stays the spec, and its error says so.
        Assert.Equal("stats", DefaultSpec.Resolve("stats", []).Spec);
    }
}

using RaftPipeline.Core.Runs;
using RaftPipeline.Core.Tests.Engine;

namespace RaftPipeline.Core.Tests.Runs;

public class ArtifactLinkTests
{
    [Fact]
    public async Task Every_stage_folder_links_to_its_artifact_in_the_cache_whether_it_ran_or_was_reused()
    {
        using var f = new PipelineFixture();
        var ran = await f.RunAsync(f.Spec());
        var reused = await f.RunAsync(f.Spec());
        foreach (var result in new[] { ran, reused })
            foreach (var stage in result.Lock.Stages)
            {
                var stageDir = Path.Combine(result.Folder.Path, RunFolder.StagesFolderName, stage.Name);
                var link = new DirectoryInfo(Path.Combine(stageDir, RunFolder.ArtifactLinkName));
                Assert.NotNull(link.LinkTarget);
                Assert.False(Path.IsPathRooted(link.LinkTarget), "relative, so a tree moved whole keeps working");
                var data = f.Store.TryGet(stage.Key!)!.DataDirectory;
                Assert.Equal(data, RunFolder.ArtifactOf(stageDir));
                Assert.Equal(stage.Artifact, RunFolder.ArtifactOf(stageDir));
                // Through the link, the artifact's own files.
                Assert.Equal(File.ReadAllText(Path.Combine(data, "out.txt")), File.ReadAllText(Path.Combine(link.FullName, "out.txt")));
                Assert.StartsWith(stage.Kind + "\n", File.ReadAllText(Path.Combine(link.FullName, "out.txt")));
            }
    }

    [Fact]
    public void Where_no_link_can_be_made_a_file_says_the_artifact_s_path()
    {
        using var temp = new TempFolder();
        var data = Directory.CreateDirectory(temp["cache/objects/ab/data"]).FullName;
        var stageDir = Directory.CreateDirectory(temp["run/stages/merged"]).FullName;
        // A file already named 'artifact' stands in for a file system that refuses the link.
        File.WriteAllText(Path.Combine(stageDir, RunFolder.ArtifactLinkName), "in the way");
        var spec = new Core.Spec.PipelineSpec("p", 0, Core.Spec.DeviceKind.Cpu, temp["cache"], new Dictionary<string, string>(), [], temp["pipeline.yaml"]);
        var folder = RunFolder.Create(spec, temp["run"], DateTime.UtcNow);
        var made = folder.LinkArtifact("merged", data);
        Assert.Equal(Path.Combine(stageDir, RunFolder.ArtifactPathFileName), made);
        Assert.Equal(data + "\n", File.ReadAllText(made));
        Assert.Equal(data, RunFolder.ArtifactOf(stageDir));
    }
}

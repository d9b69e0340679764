using RaftPipeline.Core.Engine;
using RaftPipeline.Core.Store;
using RaftPipeline.Core.Tests.Engine;

namespace RaftPipeline.Core.Tests.Store;

public class CacheVerifierTests
{
    static string Artifact(RunResult r, string stage) => r.Lock.Stage(stage)!.Artifact!;

    static void Tamper(string file, string content)
    {
        if (OperatingSystem.IsWindows()) File.SetAttributes(file, FileAttributes.Normal);
        else File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.WriteAllText(file, content);
    }

    [Fact]
    public async Task Verify_finds_a_changed_file_a_resized_file_an_added_file_and_a_missing_file()
    {
        using var f = new PipelineFixture();
        var run = await f.RunAsync(f.Spec());
        Assert.All(f.Store.EntryDirectories(), d => Assert.Empty(CacheVerifier.Verify(d)));

        var load = Path.Combine(Artifact(run, "load"), "out.txt");
        var original = File.ReadAllText(load);
        Tamper(load, original.Replace("sky", "sea")); // same size, other bytes
        var problems = CacheVerifier.Verify(Path.GetDirectoryName(Artifact(run, "load"))!);
        Assert.Equal("out.txt: sha256 ", Assert.Single(problems)[..16]);

        Tamper(Path.Combine(Artifact(run, "format"), "out.txt"), "short");
        Assert.Contains("out.txt: size 5 bytes, manifest says", Assert.Single(CacheVerifier.Verify(Path.GetDirectoryName(Artifact(run, "format"))!)));

        File.WriteAllText(Path.Combine(Artifact(run, "analyze"), "extra.txt"), "new");
        Assert.Equal("extra.txt: not in the manifest (added after publishing)", Assert.Single(CacheVerifier.Verify(Path.GetDirectoryName(Artifact(run, "analyze"))!)));

        File.Delete(Path.Combine(Artifact(run, "train"), "out.txt"));
        Assert.Equal("out.txt: missing", Assert.Single(CacheVerifier.Verify(Path.GetDirectoryName(Artifact(run, "train"))!)));
    }

    [Fact]
    public async Task A_run_with_verify_rebuilds_a_tampered_artifact_and_a_run_without_it_checks_only_sizes()
    {
        using var f = new PipelineFixture();
        var run = await f.RunAsync(f.Spec());
        var analyze = Path.Combine(Artifact(run, "analyze"), "out.txt");
        Tamper(analyze, new string('x', (int)new FileInfo(analyze).Length)); // same size: only a rehash sees it

        var plain = await f.RunAsync(f.Spec());
        Assert.Equal(StageStatus.Reused, plain.Lock.Stage("analyze")!.Status);

        var verified = await f.RunAsync(f.Spec(), verify: true);
        Assert.Equal(StageStatus.Ran, verified.Lock.Stage("analyze")!.Status);
        Assert.Equal(StageStatus.Reused, verified.Lock.Stage("train")!.Status);
        Assert.StartsWith("analyze\n", File.ReadAllText(Path.Combine(Artifact(verified, "analyze"), "out.txt")));
        Assert.Contains("dropped: its files do not match its manifest (out.txt: sha256 ", File.ReadAllText(verified.Folder.LogPath));
    }
}

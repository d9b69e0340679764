using RaftPipeline.Core.Store;
using RaftPipeline.Core.Tests.Engine;

namespace RaftPipeline.Core.Tests.Store;

public class ArtifactExporterTests
{
    static bool Writable(string path) =>
        OperatingSystem.IsWindows()
            ? !File.GetAttributes(path).HasFlag(FileAttributes.ReadOnly)
            : File.GetUnixFileMode(path).HasFlag(UnixFileMode.UserWrite);

    [Fact]
    public async Task An_export_is_a_writable_copy_of_the_artifact_recorded_in_the_cache_and_leaves_nothing_beside_it()
    {
        using var f = new PipelineFixture();
        var run = await f.RunAsync(f.Spec());
        var entry = f.Store.TryGet(run.Lock.Stage("train")!.Key!)!;
        Assert.False(Writable(Path.Combine(entry.DataDirectory, "out.txt")), "the cache's copy is read-only");

        var target = f.Folder["out/model"];
        var record = new ArtifactExporter(f.Store).Export(entry, target + "/", force: false, DateTime.UtcNow);

        Assert.Equal(Path.GetFullPath(target), record.Destination);
        Assert.Equal(["out.txt"], Directory.EnumerateFiles(target, "*", SearchOption.AllDirectories).Select(p => Path.GetRelativePath(target, p)));
        Assert.Equal(File.ReadAllBytes(Path.Combine(entry.DataDirectory, "out.txt")), File.ReadAllBytes(Path.Combine(target, "out.txt")));
        Assert.True(Writable(Path.Combine(target, "out.txt")));
        File.AppendAllText(Path.Combine(target, "out.txt"), "my edit"); // it really is the user's now
        Assert.Equal(["model"], Directory.EnumerateFileSystemEntries(f.Folder["out"]).Select(Path.GetFileName));
        Assert.Equal(entry.Key, new ExportRecords(f.Store).Find(target)!.Key);
        Assert.Equal("train", new ExportRecords(f.Store).Find(target)!.Stage);
    }

    [Fact]
    public async Task A_non_empty_folder_is_replaced_only_when_this_cache_exported_to_it_or_with_force()
    {
        using var f = new PipelineFixture();
        var run = await f.RunAsync(f.Spec());
        var train = f.Store.TryGet(run.Lock.Stage("train")!.Key!)!;
        var analyze = f.Store.TryGet(run.Lock.Stage("analyze")!.Key!)!;
        var exporter = new ArtifactExporter(f.Store);

        var mine = f.Folder.Write("mine/notes.txt", "keep me");
        var e = Assert.Throws<ExportRefusedException>(() => exporter.Export(train, f.Folder["mine"], force: false, DateTime.UtcNow));
        Assert.Contains("is not empty and this cache did not export to it", e.Message);
        Assert.Contains("--force", e.Message);
        Assert.Equal("keep me", File.ReadAllText(mine));
        Assert.DoesNotContain(Directory.EnumerateFileSystemEntries(f.Folder.Path), p => Path.GetFileName(p).StartsWith(".mine", StringComparison.Ordinal));

        exporter.Export(train, f.Folder["mine"], force: true, DateTime.UtcNow);
        Assert.False(File.Exists(mine));
        Assert.StartsWith("train\n", File.ReadAllText(f.Folder["mine/out.txt"]));

        // Exported here before: a new export replaces it without --force, whatever the user changed in it.
        File.WriteAllText(f.Folder["mine/extra.txt"], "x");
        exporter.Export(analyze, f.Folder["mine"], force: false, DateTime.UtcNow);
        Assert.StartsWith("analyze\n", File.ReadAllText(f.Folder["mine/out.txt"]));
        Assert.False(File.Exists(f.Folder["mine/extra.txt"]));
        Assert.Equal(analyze.Key, new ExportRecords(f.Store).Find(f.Folder["mine"])!.Key);
        Assert.DoesNotContain(Directory.EnumerateFileSystemEntries(f.Folder.Path), p => Path.GetFileName(p).StartsWith(".mine", StringComparison.Ordinal));

        // An empty folder is simply filled; a file or the cache itself is refused.
        Directory.CreateDirectory(f.Folder["empty"]);
        exporter.Export(train, f.Folder["empty"], force: false, DateTime.UtcNow);
        Assert.True(File.Exists(f.Folder["empty/out.txt"]));
        Assert.Contains("is a file", Assert.Throws<ExportRefusedException>(() => exporter.Export(train, f.DataFile, force: true, DateTime.UtcNow)).Message);
        Assert.Contains("is in the cache", Assert.Throws<ExportRefusedException>(() => exporter.Export(train, Path.Combine(f.Cache, "x"), force: true, DateTime.UtcNow)).Message);
        Assert.Contains("is in the cache", Assert.Throws<ExportRefusedException>(() => exporter.Export(train, f.Folder.Path, force: true, DateTime.UtcNow)).Message);
    }
}

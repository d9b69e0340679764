using System.Text.Json.Nodes;
using RaftPipeline.Core.Store;
using RaftPipeline.Core.Tests.Engine;

namespace RaftPipeline.Core.Tests.Store;

public class ArtifactStoreTests
{
    const string Key = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    static ArtifactManifest Manifest(IReadOnlyList<ManifestFile> files, string key = Key) => new(
        key, "train", "train", 3, 1234, new JsonObject { ["learning_rate"] = 0.0001 },
        new JsonObject { ["data"] = new JsonArray(new JsonObject { ["stage"] = "format", ["key"] = "ab" }) },
        files, new DateTime(2026, 1, 2, 3, 4, 5, DateTimeKind.Utc), "0.1.0", "demo");

    [Fact]
    public void Publishing_moves_the_staged_files_to_objects_with_a_manifest_of_their_sizes_and_hashes()
    {
        using var dir = new TempFolder();
        var store = new ArtifactStore(dir["cache"]);
        using var staging = store.BeginStaging(Key);
        Assert.StartsWith(Path.Combine(store.Root, "tmp") + Path.DirectorySeparatorChar, staging.Directory);
        File.WriteAllText(Path.Combine(staging.DataDirectory, "adapter_config.json"), "{}");
        Directory.CreateDirectory(Path.Combine(staging.DataDirectory, "checkpoints"));
        File.WriteAllText(Path.Combine(staging.DataDirectory, "checkpoints", "step-1.bin"), "abc");

        var entry = store.Publish(staging, files => Manifest(files));

        Assert.Equal(Path.Combine(store.Root, "objects", "01", Key), entry.EntryDirectory);
        Assert.False(Directory.Exists(staging.Directory));
        var json = JsonFiles.ReadObject(Path.Combine(entry.EntryDirectory, "manifest.json"));
        Assert.Equal(Key, json["key"]!.GetValue<string>());
        Assert.Equal(["key", "pipeline", "stage", "kind", "executor_version", "seed", "parameters", "inputs", "files", "metrics", "created_utc", "tool_version"],
            json.Select(p => p.Key));
        var files = json["files"]!.AsArray();
        Assert.Equal("adapter_config.json", files[0]!["path"]!.GetValue<string>());
        Assert.Equal("checkpoints/step-1.bin", files[1]!["path"]!.GetValue<string>());
        Assert.Equal(3, files[1]!["size"]!.GetValue<long>());
        Assert.Equal("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", files[1]!["sha256"]!.GetValue<string>());
        Assert.Equal("2026-01-02T03:04:05.000Z", json["created_utc"]!.GetValue<string>());

        var found = store.TryGet(Key);
        Assert.NotNull(found);
        Assert.Equal(2, found.Manifest.Files.Count);
        Assert.Equal(Path.Combine(entry.EntryDirectory, "data"), found.DataDirectory);
        // Published files are read-only, so a later stage cannot scribble on its input (checked on the mode
        // bits: a test running as root could write anyway).
        var published = Path.Combine(found.DataDirectory, "adapter_config.json");
        if (OperatingSystem.IsWindows()) Assert.True(File.GetAttributes(published).HasFlag(FileAttributes.ReadOnly));
        else Assert.Equal(UnixFileMode.None, File.GetUnixFileMode(published) & (UnixFileMode.UserWrite | UnixFileMode.GroupWrite | UnixFileMode.OtherWrite));
    }

    [Fact]
    public void A_staged_artifact_is_not_trusted_even_with_a_complete_manifest_until_it_is_renamed_into_place()
    {
        using var dir = new TempFolder();
        var store = new ArtifactStore(dir["cache"]);
        var staging = store.BeginStaging(Key);
        File.WriteAllText(Path.Combine(staging.DataDirectory, "out.txt"), "x");
        JsonFiles.WriteAtomically(Path.Combine(staging.Directory, "manifest.json"), Manifest([]).ToJson());
        Assert.Null(store.TryGet(Key));
        Assert.Empty(store.Entries());
        staging.Dispose();
        Assert.False(Directory.Exists(staging.Directory));
    }

    [Fact]
    public void An_entry_folder_without_a_valid_manifest_or_with_another_key_is_not_trusted_and_is_replaced_on_publish()
    {
        using var dir = new TempFolder();
        var store = new ArtifactStore(dir["cache"]);
        var entryDir = store.EntryDirectory(Key);
        Directory.CreateDirectory(Path.Combine(entryDir, "data"));
        Assert.Null(store.TryGet(Key));
        File.WriteAllText(Path.Combine(entryDir, "manifest.json"), "{\"key\": ");
        Assert.Null(store.TryGet(Key));
        JsonFiles.WriteAtomically(Path.Combine(entryDir, "manifest.json"), Manifest([], key: new string('f', 64)).ToJson());
        Assert.Null(store.TryGet(Key));

        using var staging = store.BeginStaging(Key);
        File.WriteAllText(Path.Combine(staging.DataDirectory, "out.txt"), "good");
        store.Publish(staging, files => Manifest(files));
        Assert.Equal("good", File.ReadAllText(Path.Combine(store.TryGet(Key)!.DataDirectory, "out.txt")));
    }

    [Fact]
    public void Symbolic_links_in_an_output_are_refused()
    {
        using var dir = new TempFolder();
        var store = new ArtifactStore(dir["cache"]);
        using var staging = store.BeginStaging(Key);
        File.CreateSymbolicLink(Path.Combine(staging.DataDirectory, "model.bin"), dir.Write("elsewhere.bin", "w"));
        var e = Assert.Throws<InvalidDataException>(() => store.Publish(staging, files => Manifest(files)));
        Assert.Contains("model.bin", e.Message);
        Assert.Null(store.TryGet(Key));
    }

    [Fact]
    public void Removing_an_entry_makes_it_untrusted_and_deletes_it()
    {
        using var dir = new TempFolder();
        var store = new ArtifactStore(dir["cache"]);
        using (var staging = store.BeginStaging(Key))
        {
            File.WriteAllText(Path.Combine(staging.DataDirectory, "out.txt"), "x");
            store.Publish(staging, files => Manifest(files));
        }
        store.Remove(Key);
        Assert.Null(store.TryGet(Key));
        Assert.False(Directory.Exists(store.EntryDirectory(Key)));
        Assert.Empty(Directory.EnumerateFileSystemEntries(store.TempDirectory));
    }
}

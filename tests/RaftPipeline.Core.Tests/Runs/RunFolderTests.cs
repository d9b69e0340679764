using System.Text.Json.Nodes;
using RaftPipeline.Core.Engine;
using RaftPipeline.Core.Runs;
using RaftPipeline.Core.Tests.Engine;

namespace RaftPipeline.Core.Tests.Runs;

public class RunFolderTests
{
    [Fact]
    public async Task A_run_folder_holds_the_resolved_spec_the_lock_file_the_log_and_stage_reports()
    {
        using var f = new PipelineFixture();
        var result = await f.RunAsync(f.Spec());
        var dir = result.Folder.Path;

        Assert.Equal("name: diamond\n", File.ReadAllText(Path.Combine(dir, "spec.resolved.yaml")));
        Assert.Equal("bytes: ", File.ReadAllText(Path.Combine(dir, "stages", "train", "report.txt"))[..7]);
        var log = File.ReadAllText(Path.Combine(dir, "run.log"));
        Assert.Contains("[format] format: echoing 1 slots", log);
        Assert.Contains("run succeeded", log);

        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "raft.lock.json")))!.AsObject();
        Assert.Equal(["pipeline", "tool_version", "spec", "seed", "device", "cache", "targets", "overrides", "started_utc", "finished_utc", "status", "stages"],
            json.Select(p => p.Key));
        Assert.Equal(["load", "format", "analyze", "train"], json["stages"]!.AsObject().Select(p => p.Key));
        var train = json["stages"]!["train"]!.AsObject();
        Assert.Equal(["kind", "executor_version", "key", "status", "duration_s", "artifact", "parameters", "inputs", "metrics"],
            train.Select(p => p.Key));
        Assert.Equal("cpu", json["device"]!.GetValue<string>());
        Assert.Equal(1234, json["seed"]!.GetValue<long>());
        Assert.Equal(result.Lock.Stage("format")!.Key, train["inputs"]!["data"]![0]!["key"]!.GetValue<string>());
        Assert.Equal(f.ModelFolder, train["inputs"]!["model"]![0]!["path"]!.GetValue<string>());
        Assert.Equal(Path.Combine(f.Store.EntryDirectory(train["key"]!.GetValue<string>()), "data"), train["artifact"]!.GetValue<string>());
        // Indented, one key per line: diffable.
        Assert.Contains("\n  \"stages\": {\n    \"load\": {\n      \"kind\": \"load\",", File.ReadAllText(Path.Combine(dir, "raft.lock.json")));
    }

    [Fact]
    public void Default_run_folders_are_runs_pipeline_utc_timestamp_beside_the_spec_and_never_shared()
    {
        using var f = new PipelineFixture();
        var at = new DateTime(2026, 3, 4, 5, 6, 7, DateTimeKind.Utc);
        var a = RunFolder.Create(f.Spec(), null, at);
        var b = RunFolder.Create(f.Spec(), null, at);
        Assert.Equal(Path.Combine(f.Folder.Path, "runs", "diamond", "20260304-050607"), a.Path);
        Assert.Equal(Path.Combine(f.Folder.Path, "runs", "diamond", "20260304-050607-2"), b.Path);
    }

    [Fact]
    public async Task An_explicit_run_folder_that_already_holds_a_run_is_refused()
    {
        using var f = new PipelineFixture();
        var first = await f.RunAsync(f.Spec());
        var e = Assert.Throws<Core.Store.StorageException>(() => RunFolder.Create(f.Spec(), first.Folder.Path, DateTime.UtcNow));
        Assert.Equal($"run folder '{first.Folder.Path}': already holds a run (raft.lock.json); choose an empty or new folder", e.Message);
    }
}

using System.Text.Json.Nodes;
using RaftPipeline.Cli.Tests.Generate;
using RaftPipeline.Hub.TestServer;

namespace RaftPipeline.Cli.Tests.Hub;

/// <summary>Hub ids as spec inputs (`raft run`), the `push` stage kind and `raft push`, against a local Hub.</summary>
[Collection(HubEnvironmentCollection.Name)]
public sealed class PipelineHubTests(TinyModelFixture tiny)
{
    static JsonObject LatestLock(string folder, string pipeline)
    {
        var run = Directory.EnumerateDirectories(Path.Combine(folder, "runs", pipeline)).Order(StringComparer.Ordinal).Last();
        return JsonNode.Parse(File.ReadAllText(Path.Combine(run, "raft.lock.json")))!.AsObject();
    }

    static string NewFolder(string name)
    {
        var folder = Path.Combine(Path.GetTempPath(), "raft-hub-cli", Guid.NewGuid().ToString("N")[..12], name);
        Directory.CreateDirectory(Path.Combine(folder, "data"));
        File.WriteAllText(Path.Combine(folder, "data", "rag.csv"), "context,question,cot\n하늘,색은?,파랑\n");
        return folder;
    }

    Dictionary<string, byte[]> TinyFiles() =>
        Directory.EnumerateFiles(tiny.ModelDir).ToDictionary(p => Path.GetFileName(p), File.ReadAllBytes, StringComparer.Ordinal);

    [Fact]
    public async Task A_spec_input_names_a_model_id_and_a_new_upstream_commit_reruns_only_what_reads_it()
    {
        await using var server = await LocalHub.StartAsync();
        var files = TinyFiles();
        var first = server.AddCommit("tiny-org/tiny-qwen3", files);
        var folder = NewFolder("ids");
        var spec = Path.Combine(folder, "pipeline.yaml");
        File.WriteAllText(spec, """
            name: ids
            device: cpu
            stages:
              rows:
                kind: load
                inputs: { files: [data/rag.csv] }
              chat:
                kind: format
                inputs: { data: rows, model: tiny-org/tiny-qwen3 }
            """);
        using var env = new HubEnvironment(server.Endpoint, Path.Combine(folder, "hf-home"));

        // plan names the commit and computes the keys without downloading anything.
        var plan = TinyModelFixture.Raft("plan", spec);
        Assert.True(plan.Exit == 0, plan.Err + plan.Out);
        Assert.DoesNotContain(server.Requests, r => r.Path.Contains("/resolve/") || r.Path.StartsWith("/cdn/"));
        Assert.False(Directory.Exists(Path.Combine(folder, "hf-home", "hub", "models--tiny-org--tiny-qwen3", "snapshots")));

        var run1 = TinyModelFixture.Raft("run", spec);
        Assert.True(run1.Exit == 0, run1.Err + run1.Out);
        Assert.Contains("succeeded: 2 ran, 0 reused", run1.Out);
        var input = LatestLock(folder, "ids")["stages"]!["chat"]!["inputs"]!["model"]![0]!;
        Assert.Equal($"hf://tiny-org/tiny-qwen3@{first}", input["source"]!.GetValue<string>());
        Assert.Equal(Path.Combine(folder, "hf-home", "hub", "models--tiny-org--tiny-qwen3", "snapshots", first), input["path"]!.GetValue<string>());

        // Unchanged upstream: everything reused. A new commit: only the stage reading the model runs again.
        Assert.Contains("succeeded: 0 ran, 2 reused", TinyModelFixture.Raft("run", spec).Out);
        files["generation_config.json"] = "{\"do_sample\": false}\n"u8.ToArray();
        var second = server.AddCommit("tiny-org/tiny-qwen3", files);
        var run3 = TinyModelFixture.Raft("run", spec);
        Assert.Contains("succeeded: 1 ran, 1 reused", run3.Out);
        Assert.Equal($"hf://tiny-org/tiny-qwen3@{second}", LatestLock(folder, "ids")["stages"]!["chat"]!["inputs"]!["model"]![0]!["source"]!.GetValue<string>());

        // A mistyped id is reported before anything runs, naming the stage, the input and the Hub's answer.
        File.WriteAllText(spec, File.ReadAllText(spec).Replace("tiny-org/tiny-qwen3", "tiny-org/tiny-qwen4"));
        var bad = TinyModelFixture.Raft("run", spec);
        Assert.Equal(2, bad.Exit);
        Assert.Contains("stage 'chat', input 'model': 'tiny-org/tiny-qwen4' is no local path", bad.Err);
        Assert.Contains("model repository tiny-org/tiny-qwen4 not found on the Hub", bad.Err);
        Assert.Contains("nothing was run.", bad.Err);
    }

    [Fact]
    public async Task A_push_stage_commits_the_model_folder_once_and_records_the_commit()
    {
        await using var server = await LocalHub.StartAsync();
        var folder = NewFolder("pushes");
        var spec = Path.Combine(folder, "pipeline.yaml");
        File.WriteAllText(spec, """
            name: pushes
            device: cpu
            stages:
              tiny:
                kind: model
                params: { preset: tiny, seed: 5 }
              upload:
                kind: push
                inputs: { folder: tiny }
                params: { repo: me/tiny-raft, commit_message: First upload }
            """);
        using var env = new HubEnvironment(server.Endpoint, Path.Combine(folder, "hf-home")) { Token = "hf_write" };

        var run = TinyModelFixture.Raft("run", spec);
        Assert.True(run.Exit == 0, run.Err + run.Out);
        var commit = Assert.Single(server.Commits);
        Assert.Equal("First upload", commit.Summary);
        Assert.Equal(["me/tiny-raft"], server.CreatedRepos);

        var stages = LatestLock(folder, "pushes")["stages"]!;
        var modelFolder = stages["tiny"]!["artifact"]!.GetValue<string>();
        var expected = Directory.EnumerateFiles(modelFolder).Select(p => Path.GetFileName(p))
            .Order(StringComparer.Ordinal).ToList();
        Assert.Equal(expected, commit.Files.Keys.Order(StringComparer.Ordinal));
        foreach (var name in expected)
            Assert.Equal(LocalHub.Sha256(File.ReadAllBytes(Path.Combine(modelFolder, name))), LocalHub.Sha256(commit.Files[name].ToArray()));
        Assert.Contains("model.safetensors", commit.LfsPaths);

        // The artifact records the commit; the metrics too.
        var record = JsonNode.Parse(File.ReadAllText(Path.Combine(stages["upload"]!["artifact"]!.GetValue<string>(), "push.json")))!;
        Assert.Equal(commit.Commit, record["commit"]!.GetValue<string>());
        Assert.Equal($"{server.Endpoint}/me/tiny-raft/commit/{commit.Commit}", record["url"]!.GetValue<string>());
        Assert.Equal(commit.Commit, stages["upload"]!["metrics"]!["commit"]!.GetValue<string>());

        // Same content again: the stage is reused and nothing more is committed.
        Assert.Contains("succeeded: 0 ran, 2 reused", TinyModelFixture.Raft("run", spec).Out);
        Assert.Single(server.Commits);
    }

    [Fact]
    public async Task Raft_push_uploads_the_model_files_and_card_of_a_folder_and_prints_the_commit()
    {
        await using var server = await LocalHub.StartAsync();
        var folder = NewFolder("verb");
        var adapter = Path.Combine(folder, "adapter");
        Directory.CreateDirectory(adapter);
        foreach (var file in Directory.EnumerateFiles(tiny.AdapterDir)) File.Copy(file, Path.Combine(adapter, Path.GetFileName(file)));
        File.WriteAllText(Path.Combine(adapter, "README.md"), "---\nlibrary_name: peft\n---\n");
        File.WriteAllText(Path.Combine(adapter, "metrics.jsonl"), "{}\n"); // not part of a model push
        using var env = new HubEnvironment(server.Endpoint, Path.Combine(folder, "hf-home")) { Token = "hf_write" };

        var pushed = TinyModelFixture.Raft("push", "--folder", adapter, "--repo", "me/tiny-adapter", "--private");
        Assert.True(pushed.Exit == 0, pushed.Err);
        var commit = Assert.Single(server.Commits);
        Assert.Equal(["README.md", "adapter_config.json", "adapter_model.safetensors"], commit.Files.Keys.Order(StringComparer.Ordinal));
        Assert.Equal($"pushed 3 files to me/tiny-adapter: commit {commit.Commit}\n{server.Endpoint}/me/tiny-adapter/commit/{commit.Commit}\n",
            pushed.Out.Replace("\r\n", "\n"));

        env.Token = "hf_readonly";
        var refused = TinyModelFixture.Raft("push", "--folder", adapter, "--repo", "me/tiny-adapter");
        Assert.Equal(2, refused.Exit);
        Assert.Contains("push to me/tiny-adapter: the Hub refused the push to me/tiny-adapter (401", refused.Err);
        Assert.Equal(2, TinyModelFixture.Raft("push", "--folder", adapter, "--repo", "not-an-id").Exit);
    }
}

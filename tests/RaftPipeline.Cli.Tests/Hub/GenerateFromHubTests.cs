using System.Text.Json;
using RaftPipeline.Cli.Tests.Generate;
using RaftPipeline.Hub.TestServer;

namespace RaftPipeline.Cli.Tests.Hub;

/// <summary>
/// `raft generate --model org/name` against a local Hub: the first call downloads into the HF cache, the second runs
/// with HF_HUB_OFFLINE=1 and the server gone, from the cache alone; the cache is laid out as huggingface_hub reads it.
/// </summary>
[Collection(HubEnvironmentCollection.Name)]
public sealed class GenerateFromHubTests(TinyModelFixture tiny)
{
    const string Prompt = "<|im_start|>user\nhello<|im_end|>\n<|im_start|>assistant\n";

    static int[] GeneratedIds(string stdout)
    {
        using var doc = JsonDocument.Parse(stdout.Trim());
        return doc.RootElement.GetProperty("generated_ids").EnumerateArray().Select(e => e.GetInt32()).ToArray();
    }

    static string[] Args(string model) => ["generate", "--model", model, "--prompt", Prompt, "--greedy", "--max-new-tokens", "5", "--device", "cpu", "--json"];

    [Fact]
    public async Task Generate_downloads_a_model_id_once_then_runs_offline_from_the_cache()
    {
        var home = Path.Combine(tiny.Root, "hf-home");
        var files = Directory.EnumerateFiles(tiny.ModelDir).ToDictionary(p => Path.GetFileName(p), File.ReadAllBytes, StringComparer.Ordinal);
        files["README.md"] = "# tiny\n"u8.ToArray();
        var expected = GeneratedIds(TinyModelFixture.Raft(Args(tiny.ModelDir)).Out);

        string commit;
        await using (var server = await LocalHub.StartAsync())
        {
            commit = server.AddCommit("tiny-org/tiny-qwen3", files);
            using var env = new HubEnvironment(server.Endpoint, home);
            var first = TinyModelFixture.Raft(Args("tiny-org/tiny-qwen3"));
            Assert.Equal(0, first.Exit);
            Assert.Equal(expected, GeneratedIds(first.Out));
            Assert.Contains("tiny-org/tiny-qwen3: downloaded model.safetensors", first.Err);
            Assert.Contains(server.Requests, r => r.Path.StartsWith("/cdn/")); // the LFS redirect was followed
        }

        // The layout Python's huggingface_hub reads: refs/main → commit, snapshot links into blobs/ named by etag.
        var repo = Path.Combine(home, "hub", "models--tiny-org--tiny-qwen3");
        Assert.Equal(commit, File.ReadAllText(Path.Combine(repo, "refs", "main")));
        var snapshot = Path.Combine(repo, "snapshots", commit);
        Assert.Equal(files.Keys.Where(k => k != "README.md").Order(StringComparer.Ordinal),
            Directory.EnumerateFiles(snapshot).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        foreach (var link in Directory.EnumerateFiles(snapshot))
        {
            var name = Path.GetFileName(link);
            var etag = LocalHub.Etag(name, files[name]);
            Assert.Equal($"../../blobs/{etag}", new FileInfo(link).LinkTarget);
            Assert.Equal(files[name], File.ReadAllBytes(Path.Combine(repo, "blobs", etag)));
        }

        // Second call: offline, and nothing listening at HF_ENDPOINT any more.
        using (var env = new HubEnvironment("http://127.0.0.1:9", home) { Offline = true })
        {
            var second = TinyModelFixture.Raft(Args("tiny-org/tiny-qwen3"));
            Assert.Equal("", second.Err);
            Assert.Equal(0, second.Exit);
            Assert.Equal(expected, GeneratedIds(second.Out));

            var missing = TinyModelFixture.Raft(Args("tiny-org/not-downloaded"));
            Assert.Equal(2, missing.Exit);
            Assert.Equal("", missing.Out);
            Assert.StartsWith("raft generate: --model: 'tiny-org/not-downloaded' is no local folder, so it was taken as a Hugging Face model id: " +
                              "tiny-org/not-downloaded is not in the Hugging Face cache at", missing.Err);
            Assert.Contains("HF_HUB_OFFLINE is set", missing.Err);
        }
    }

    [Fact]
    public async Task A_missing_repository_is_a_clear_error_and_a_local_folder_of_that_name_wins()
    {
        await using var server = await LocalHub.StartAsync();
        using var env = new HubEnvironment(server.Endpoint, Path.Combine(tiny.Root, "hf-home-2"));
        var missing = TinyModelFixture.Raft(Args("nobody/nothing"));
        Assert.Equal(2, missing.Exit);
        Assert.Contains("--model: 'nobody/nothing' is no local folder, so it was taken as a Hugging Face model id: " +
                        "model repository nobody/nothing not found on the Hub", missing.Err);

        // A folder that exists under the same relative name is used, and the Hub is never asked.
        var cwd = Environment.CurrentDirectory;
        var local = Path.Combine(tiny.Root, "cwd");
        Directory.CreateDirectory(Path.Combine(local, "nobody"));
        CopyFolder(tiny.ModelDir, Path.Combine(local, "nobody", "nothing"));
        while (server.Requests.TryDequeue(out _)) { }
        try
        {
            Environment.CurrentDirectory = local;
            var found = TinyModelFixture.Raft(Args("nobody/nothing"));
            Assert.Equal(0, found.Exit);
        }
        finally
        {
            Environment.CurrentDirectory = cwd;
        }
        Assert.Empty(server.Requests);
    }

    static void CopyFolder(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.EnumerateFiles(from)) File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
    }
}

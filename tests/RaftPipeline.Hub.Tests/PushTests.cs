using RaftPipeline.Hub.TestServer;
using RaftPipeline.Hub.Upload;

namespace RaftPipeline.Hub.Tests;

public sealed class PushTests : HubTestBase
{
    string AdapterFolder(byte seed)
    {
        var folder = Path.Combine(Root, $"adapter-{seed}");
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "adapter_config.json"), """{"peft_type": "LORA", "r": 4}""");
        var weights = new byte[200_000];
        new Random(seed).NextBytes(weights);
        File.WriteAllBytes(Path.Combine(folder, "adapter_model.safetensors"), weights);
        File.WriteAllText(Path.Combine(folder, "README.md"), "---\nlibrary_name: peft\n---\n# tuned\n");
        return folder;
    }

    static Dictionary<string, byte[]> Read(string folder) =>
        Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)
            .ToDictionary(p => Path.GetRelativePath(folder, p).Replace('\\', '/'), File.ReadAllBytes, StringComparer.Ordinal);

    [Fact]
    public void Push_creates_the_repo_and_makes_one_commit_with_exactly_the_folders_files()
    {
        var folder = AdapterFolder(1);
        var result = new HubUploader(Settings(token: "hf_write"), Progress).Push(new PushRequest("me/tuned", folder, "Upload adapter"));

        Assert.Equal(["me/tuned"], Server.CreatedRepos);
        var commit = Assert.Single(Server.Commits);
        Assert.Equal("Upload adapter", commit.Summary);
        Assert.Equal("main", commit.Revision);
        var local = Read(folder);
        Assert.Equal(local.Keys.Order(), commit.Files.Keys.Order());
        foreach (var (path, bytes) in local) Assert.Equal(LocalHub.Sha256(bytes), LocalHub.Sha256(commit.Files[path].ToArray()));
        Assert.Equal(["adapter_model.safetensors"], commit.LfsPaths);
        var weightsSha = LocalHub.Sha256(local["adapter_model.safetensors"]);
        Assert.Equal([weightsSha], Server.VerifiedOids);
        Assert.Equal(commit.Commit, result.CommitOid);
        Assert.Equal($"{Server.Endpoint}/me/tuned/commit/{commit.Commit}", result.CommitUrl);
        Assert.Equal((3, 1, 1), (result.Files.Count, result.LfsFiles, result.Uploaded));
        Assert.Equal(weightsSha, result.Files.Single(f => f.Path == "adapter_model.safetensors").Sha256);

        var requests = TakeRequests();
        // The bytes went to the storage URL without the token; every Hub API call carried it.
        var put = Assert.Single(requests, r => r.Method == "PUT");
        Assert.Equal($"/lfs-upload/{weightsSha}", put.Path);
        Assert.Null(put.Authorization);
        Assert.All(requests.Where(r => r.Path.StartsWith("/api/")), r => Assert.Equal("Bearer hf_write", r.Authorization));
        Assert.Single(requests, r => r.Path == "/api/models/me/tuned/commit/main");

        // What was pushed downloads back byte for byte.
        var snapshot = Resolver().Resolve(HubModelId.Parse("me/tuned"));
        Assert.Equal(commit.Commit, snapshot.Commit);
        Assert.Equal(local["adapter_model.safetensors"], File.ReadAllBytes(Path.Combine(snapshot.Folder, "adapter_model.safetensors")));
    }

    [Fact]
    public void A_second_push_to_an_existing_repo_uploads_in_parts_and_keeps_other_files()
    {
        var uploader = new HubUploader(Settings(token: "hf_write"), Progress);
        uploader.Push(new PushRequest("me/tuned", AdapterFolder(1), "first"));
        Server.MultipartChunkSize = 64 * 1024;
        var second = AdapterFolder(2);

        var result = uploader.Push(new PushRequest("me/tuned", second, "second"));

        Assert.Single(Server.CreatedRepos); // the 409 of an existing repo is no error and creates nothing
        Assert.Equal(2, Server.Commits.Count);
        var commit = Server.Commits.Last();
        var weights = File.ReadAllBytes(Path.Combine(second, "adapter_model.safetensors"));
        Assert.Equal(weights, commit.Files["adapter_model.safetensors"]);
        Assert.Equal(4, TakeRequests().Count(r => r.Method == "PUT" && r.Path.Contains("/part/"))); // 200,000 bytes in 64 KiB parts
        Assert.Equal(commit.Commit, result.CommitOid);
    }

    [Fact]
    public void Push_without_a_token_or_with_a_wrong_one_says_what_to_do()
    {
        var folder = AdapterFolder(1);
        var none = Assert.Throws<HubException>(() => new HubUploader(Settings()).Push(new PushRequest("me/tuned", folder, "x")));
        Assert.Contains("needs a token with write access: set HF_TOKEN", none.Message);
        Assert.Empty(TakeRequests());

        var wrong = Assert.Throws<HubException>(() => new HubUploader(Settings(token: "hf_read")).Push(new PushRequest("me/tuned", folder, "x")));
        Assert.Equal(HubErrorKind.Unauthorized, wrong.Kind);
        Assert.Contains("Invalid credentials in Authorization header", wrong.Message);
        Assert.Empty(Server.Commits);
    }
}

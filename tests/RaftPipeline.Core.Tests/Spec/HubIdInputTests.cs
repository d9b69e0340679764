using RaftPipeline.Core.Engine;
using RaftPipeline.Core.Spec;
using RaftPipeline.Core.Store;
using RaftPipeline.Core.TestHost;
using RaftPipeline.Hub;
using RaftPipeline.Hub.Cache;

namespace RaftPipeline.Core.Tests.Spec;

/// <summary>Hugging Face model ids as stage inputs: where they are accepted, what wins, and what enters a key.</summary>
public class HubIdInputTests
{
    [Fact]
    public void A_model_input_that_is_no_local_path_becomes_a_hub_id_and_an_existing_path_wins()
    {
        var yaml = SpecTexts.Recipe.Replace("model: models/tiny", "model: Qwen/Qwen3-0.6B@v2");
        using var spec = new TempSpec(yaml, SpecTexts.RecipeFiles);
        var result = spec.Load();
        Assert.True(result.IsValid, string.Join("\n", result.Errors));
        var input = Assert.IsType<StageInput.FromHub>(Assert.Single(result.Spec!.Stages.Single(s => s.Name == "formatted").Inputs["model"]));
        Assert.Equal(new HubModelId("Qwen/Qwen3-0.6B", "v2"), input.Id);

        using var local = new TempSpec(SpecTexts.Recipe.Replace("model: models/tiny", "model: Qwen/Qwen3-0.6B"), [.. SpecTexts.RecipeFiles, "Qwen/Qwen3-0.6B/"]);
        var path = Assert.IsType<StageInput.FromPath>(Assert.Single(local.Load().Spec!.Stages.Single(s => s.Name == "formatted").Inputs["model"]));
        Assert.Equal(Path.Combine(local.Folder, "Qwen", "Qwen3-0.6B"), path.Path);
    }

    [Fact]
    public void Data_files_never_read_as_hub_ids()
    {
        var yaml = SpecTexts.Recipe.Replace("files: [data/rag.csv, data/rag_neg.csv]", "files: [someone/dataset]");
        using var spec = new TempSpec(yaml, SpecTexts.RecipeFiles);
        Assert.Contains("stages.data.inputs.files[0]: path not found: 'someone/dataset'", spec.Errors());
    }

    [Fact]
    public void The_key_of_a_hub_input_follows_its_commit_and_file_hashes_not_its_path()
    {
        var yaml = """
            name: hubkeys
            stages:
              a:
                kind: quantize
                inputs: { model: org/model }
            """;
        using var spec = new TempSpec(yaml);
        var loaded = spec.Load();
        Assert.True(loaded.IsValid, string.Join("\n", loaded.Errors));
        var store = new ArtifactStore(Path.Combine(spec.Folder, ".cache"));
        var registry = new StageExecutorRegistry([new EchoExecutor("quantize")]);
        string KeyWith(string commit, string etag, string folder) =>
            new StageKeyResolver(registry, new ExternalInputHasher(InputHashMemo.Open(store.Root)), store,
                    id => new HubSnapshot(id, commit, folder, [new HubFile("config.json", etag, 10)]))
                .Resolve(0, loaded.Spec!.Stages)[0].Key;

        var c1 = new string('1', 40);
        var c2 = new string('2', 40);
        var baseline = KeyWith(c1, new string('a', 40), "/cache/one");
        Assert.Equal(baseline, KeyWith(c1, new string('a', 40), "/elsewhere/two")); // the folder is no part of the key
        Assert.NotEqual(baseline, KeyWith(c2, new string('a', 40), "/cache/one"));
        Assert.NotEqual(baseline, KeyWith(c1, new string('b', 40), "/cache/one"));

        var refused = Assert.Throws<RunPreparationException>(() =>
            new StageKeyResolver(registry, new ExternalInputHasher(InputHashMemo.Open(store.Root)), store,
                id => throw new HubException(HubErrorKind.RepoNotFound, $"model repository {id.RepoId} not found on the Hub")).Resolve(0, loaded.Spec!.Stages));
        Assert.Contains("stage 'a', input 'model': 'org/model' is no local path", Assert.Single(refused.Problems));
        Assert.Contains("so it was taken as a Hugging Face model id: model repository org/model not found on the Hub", refused.Problems[0]);
    }
}

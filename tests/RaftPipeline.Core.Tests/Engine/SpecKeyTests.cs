using RaftPipeline.Core.Engine;
using RaftPipeline.Core.Graph;
using RaftPipeline.Core.Runs;
using RaftPipeline.Core.Spec;
using RaftPipeline.Core.Store;
using RaftPipeline.Core.TestHost;

namespace RaftPipeline.Core.Tests.Engine;

/// <summary>Keys of specs read from YAML by the real loader: stable under key order and number spelling.</summary>
public class SpecKeyTests
{
    public const string Golden = """
        name: golden
        seed: 1234
        device: cpu
        stages:
          rows:
            kind: load
            inputs: { files: [data/rag.csv] }
            params: { test_size: 0.1 }
          chat:
            kind: format
            inputs: { data: rows, model: models/tiny }
            params: { system_prompt: Answer rudely. }
          adapter:
            kind: lora
            inputs: { model: models/tiny }
          train:
            kind: train
            inputs: { model: models/tiny, adapter: adapter, data: chat }
            params: { learning_rate: 1e-4, max_steps: 10 }
        """;

    /// <summary>The same spec with every mapping's keys in another order and other number spellings.</summary>
    const string Reordered = """
        stages:
          train:
            params:
              max_steps: 10
              learning_rate: 0.0001
            inputs: { data: chat, adapter: adapter, model: models/tiny }
            kind: train
          adapter:
            inputs: { model: models/tiny }
            kind: lora
          chat:
            params: { system_prompt: Answer rudely. }
            inputs: { model: models/tiny, data: rows }
            kind: format
          rows:
            params: { test_size: 1.0e-1 }
            inputs: { files: [data/rag.csv] }
            kind: load
        device: cpu
        seed: 1234
        name: golden
        """;

    public static IReadOnlyList<IStageExecutor> AllKindEchoes() =>
        StageKindCatalog.Kinds.Select(k => (IStageExecutor)new EchoExecutor(k.Name)).ToList();

    /// <summary>A folder with the files the specs name, and the spec written into it.</summary>
    public sealed class SpecFolder : IDisposable
    {
        public SpecFolder(string yaml)
        {
            Folder.Write("data/rag.csv", "context,question,cot\n하늘,색은?,파랑\n");
            Folder.Write("models/tiny/config.json", """{"model_type":"qwen3"}""");
            SpecPath = Folder.Write("pipeline.yaml", yaml);
        }

        public TempFolder Folder { get; } = new();
        public string SpecPath { get; }

        public PipelineSpec Load(params string[] overrides) => SpecLoader.Load(SpecPath, overrides).GetSpecOrThrow();

        public IReadOnlyList<ResolvedStage> Resolve(PipelineSpec spec) =>
            new StageKeyResolver(new StageExecutorRegistry(AllKindEchoes()), new ExternalInputHasher(InputHashMemo.InMemory()),
                new ArtifactStore(spec.CacheDirectory)).Resolve(spec.Seed, PipelineGraph.Build(spec).TopologicalOrder);

        public Dictionary<string, string> Keys(params string[] overrides) => Resolve(Load(overrides)).ToDictionary(s => s.Name, s => s.Key);

        public void Dispose() => Folder.Dispose();
    }

    [Fact]
    public void Golden_keys_of_a_fixed_yaml_spec()
    {
        // Changes when the key format, a record's defaults or a parameter's name change: each is a deliberate
        // break of every cache, to be named in the release notes.
        using var spec = new SpecFolder(Golden);
        Assert.Equal(new Dictionary<string, string>
        {
            ["rows"] = "472e02923d13b6f59221c64d80a45cb7973f631e6e2f96c657aef15a4e8f510d",
            ["chat"] = "d73465a5a3d55d7fd7b48dc1b3daee434b7d0dee088c16f066868cd9a48072b9",
            // Changed when target_modules lost its Qwen default (issue 17: absent = the model family's projections).
            ["adapter"] = "29390b45c446b1c44c7f9504f1757556135c8892e66904ad275ab8186b282274",
            // Changed once when save_steps left the train key (issue 19: it cannot change the result), and when
            // response_template lost its ChatML default (issue 17: absent = the chat template's answer opener).
            ["train"] = "f0e0e77ca1fb75cd5e5d80182132214389c2bc45312d0f81fd9530658a56be81",
        }, spec.Keys());
    }

    [Fact]
    public void Reordering_yaml_keys_and_respelling_numbers_keeps_every_key()
    {
        using var a = new SpecFolder(Golden);
        using var b = new SpecFolder(Reordered);
        Assert.Equal(a.Keys(), b.Keys());
    }

    [Fact]
    public void One_e_minus_four_and_0_0001_give_one_key_in_the_file_and_in_overrides()
    {
        using var spec = new SpecFolder(Golden);
        var keys = spec.Keys();
        Assert.Equal(keys, spec.Keys("train.learning_rate=0.0001"));
        Assert.Equal(keys, spec.Keys("train.learning_rate=1E-4"));
        var changed = spec.Keys("train.learning_rate=2e-4");
        Assert.NotEqual(keys["train"], changed["train"]);
        Assert.Equal(keys["chat"], changed["chat"]);
    }

    [Fact]
    public void Checkpoint_settings_never_change_a_key_but_stay_in_the_resolved_spec()
    {
        using var spec = new SpecFolder(Golden);
        var keys = spec.Keys();
        Assert.Equal(keys, spec.Keys("train.save_steps=3"));
        Assert.Equal(keys, spec.Keys("train.save_steps=3", "train.save_total_limit=2"));
        Assert.NotEqual(keys["train"], spec.Keys("train.logging_steps=3")["train"]); // a neighbouring setting does count

        // Left out of the canonical parameters (key, manifest, lock file, train_summary.json), kept where a person reads
        // what ran: the resolved spec.
        var loaded = spec.Load("train.save_steps=3");
        var train = loaded.Stages.Single(s => s.Name == "train");
        var canonical = CanonicalParameters.ToJson(train.Parameters);
        Assert.False(canonical.ContainsKey("save_steps"), canonical.ToJsonString());
        Assert.Equal(25, canonical["logging_steps"]!.GetValue<int>());
        Assert.Equal(3, SpecJson.Parameters(train.Parameters)["save_steps"]!.GetValue<int>());
        Assert.Contains("save_steps: 3", ResolvedSpecWriter.Write(loaded, ["train.save_steps=3"]));
    }

    [Fact]
    public void The_resolved_spec_is_a_spec_that_builds_the_same_keys()
    {
        using var spec = new SpecFolder(Golden);
        var loaded = spec.Load("train.max_steps=12");
        var yaml = ResolvedSpecWriter.Write(loaded, ["train.max_steps=12"]);
        Assert.Contains("# with --set train.max_steps=12", yaml);
        Assert.Contains("learning_rate: 0.0001", yaml);
        var resolvedPath = spec.Folder.Write("elsewhere/spec.resolved.yaml", yaml);
        var reloaded = SpecLoader.Load(resolvedPath).GetSpecOrThrow();
        Assert.Equal(spec.Resolve(loaded).Select(s => s.Key), spec.Resolve(reloaded).Select(s => s.Key));
    }
}

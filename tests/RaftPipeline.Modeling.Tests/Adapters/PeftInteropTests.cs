using RaftPipeline.Modeling.Adapters;
using RaftPipeline.Modeling.Loading;
using RaftPipeline.Modeling.Lora;
using RaftPipeline.Modeling.Merge;
using RaftPipeline.Modeling.Native;
using RaftPipeline.Modeling.Safetensors;
using RaftPipeline.Modeling.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace RaftPipeline.Modeling.Tests.Adapters;

/// <summary>
/// Against peft 0.21 / transformers 5.17 through Fixtures/peft_interop (generate.py beside it, run on the GPU
/// machine). Round 1 gives the base, peft's adapter, peft's merged weights and their logits; round 2 adds the
/// logits peft computes with the adapter and merged model WE wrote (ours/, ours_merged/, committed beside the script).
/// </summary>
public class PeftInteropTests
{
    const string WriteOursVariable = "RAFT_WRITE_PEFT_FIXTURES";
    static string Dir => RepoPaths.Fixtures("peft_interop");

    public PeftInteropTests() => TorchRuntime.EnsureInitialized();

    static SafetensorsFile Logits()
    {
        var path = Path.Combine(Dir, "logits.safetensors");
        if (!File.Exists(path) || !File.Exists(Path.Combine(Dir, "base", "config.json")) || !File.Exists(Path.Combine(Dir, "adapter", "adapter_config.json")))
            Assert.Fail($"peft interop fixture missing in {Dir}: run `python generate.py {Dir}` (transformers 5.17, peft 0.21) on the GPU machine and commit its outputs");
        return SafetensorsFile.Open(path);
    }

    static int SequenceCount(SafetensorsFile logits) => logits.Entries.Count(e => e.Name.StartsWith("ids.", StringComparison.Ordinal));

    static void AssertLogits(nn.Module model, SafetensorsFile logits, string name)
    {
        int n = SequenceCount(logits);
        Assert.True(n > 0, "the fixture holds no sequences");
        for (int k = 0; k < n; k++)
        {
            using var scope = NewDisposeScope();
            if (!logits.Contains($"{name}.{k}")) Assert.Fail($"{logits.Path} has no '{name}.{k}': rerun generate.py (round 2 needs ours/ and ours_merged/ committed first)");
            var ids = logits.Read($"ids.{k}").unsqueeze(0);
            var expected = logits.Read($"{name}.{k}");
            var actual = ((nn.Module<Tensor, Tensor>)model).forward(ids)[0];
            var diff = (expected - actual).abs().max().item<float>();
            Assert.True(diff <= 1e-4f, $"{name}.{k}: max |ours - reference| = {diff}");
        }
    }

    static RaftPipeline.Modeling.Decoder.CausalLM Base()
    {
        var model = PretrainedLoader.Load(Path.Combine(Dir, "base"), dtype: ScalarType.Float32);
        model.eval();
        return model;
    }

    [Fact]
    public void Our_decoder_reproduces_the_base_logits()
    {
        using var logits = Logits();
        using var model = Base();
        AssertLogits(model, logits, "base");
    }

    [Fact]
    public void Our_model_with_the_adapter_peft_wrote_gives_pefts_logits()
    {
        using var logits = Logits();
        using var model = Base();
        var config = AdapterStore.Load(model, Path.Combine(Dir, "adapter"));
        Assert.Equal(4, config.Lora.R);
        Assert.Equal(2.0, config.Lora.Scaling);
        model.eval();
        AssertLogits(model, logits, "peft_adapter");
    }

    [Fact]
    public void Our_merge_of_pefts_adapter_matches_merge_and_unload_weights_and_logits()
    {
        using var logits = Logits();
        using var dir = new TempDir();
        AdapterMerger.Merge(Path.Combine(Dir, "base"), Path.Combine(Dir, "adapter"), dir.Path);
        using (var ours = SafetensorsCheckpoint.Open(dir.Path))
        using (var theirs = SafetensorsFile.Open(Path.Combine(Dir, "peft_merged", "model.safetensors")))
        {
            foreach (var entry in theirs.Entries)
            {
                using var scope = NewDisposeScope();
                var a = ours.Read(entry.Name, dtype: ScalarType.Float32);
                var b = theirs.Read(entry.Name, dtype: ScalarType.Float32);
                // Both round fp32(W) + delta to bf16 once; allow one bf16 ulp where the fp32 delta's last bit differs.
                var tol = b.abs() * (1.0 / 128) + 1e-30;
                Assert.True(((a - b).abs() <= tol).all().item<bool>(), $"merged '{entry.Name}' differs from peft's by more than one bf16 ulp");
            }
        }
        using var merged = PretrainedLoader.Load(dir.Path, dtype: ScalarType.Float32);
        merged.eval();
        AssertLogits(merged, logits, "peft_merged");
    }

    [Fact]
    public void Peft_loads_the_adapter_we_wrote_and_gives_our_logits()
    {
        using var logits = Logits();
        var ours = Path.Combine(Dir, "ours");
        WriteOursIfAsked();
        if (!Directory.Exists(ours))
            Assert.Fail($"{ours} missing: run `{WriteOursVariable}=1 dotnet test --filter PeftInteropTests`, commit ours/ and ours_merged/, then rerun generate.py");
        using var model = Base();
        AdapterStore.Load(model, ours);
        model.eval();
        AssertLogits(model, logits, "ours_adapter");
    }

    [Fact]
    public void Transformers_loads_the_model_we_merged_and_gives_our_logits()
    {
        using var logits = Logits();
        var oursMerged = Path.Combine(Dir, "ours_merged");
        WriteOursIfAsked();
        if (!Directory.Exists(oursMerged))
            Assert.Fail($"{oursMerged} missing: run `{WriteOursVariable}=1 dotnet test --filter PeftInteropTests`, commit it, then rerun generate.py");
        using var model = PretrainedLoader.Load(oursMerged, dtype: ScalarType.Float32);
        model.eval();
        AssertLogits(model, logits, "ours_merged");
    }

    static readonly object WriteGate = new();

    /// <summary>
    /// Writes ours/ (an adapter with random A and B, seed 77, r=4, alpha=8, the seven projections) for the fixture's
    /// base, and ours_merged/ (our merge of it), when asked through the environment. Never overwrites.
    /// </summary>
    static void WriteOursIfAsked()
    {
        if (Environment.GetEnvironmentVariable(WriteOursVariable) != "1") return;
        lock (WriteGate)
        {
            var ours = Path.Combine(Dir, "ours");
            if (!Directory.Exists(ours))
            {
                using var model = Base();
                var config = new LoraConfig { R = 4, Alpha = 8, Dropout = 0.05, Targets = LoraTargets.AttentionAndMlp(), Init = LoraInit.Random, Seed = 77 };
                LoraInjector.Apply(model, config);
                AdapterStore.Save(model, AdapterConfig.From(config, "base"), ours);
            }
            var merged = Path.Combine(Dir, "ours_merged");
            if (!Directory.Exists(merged)) AdapterMerger.Merge(Path.Combine(Dir, "base"), ours, merged);
        }
    }
}

using RaftPipeline.Modeling.Adapters;
using RaftPipeline.Modeling.Config;
using RaftPipeline.Modeling.Decoder;
using RaftPipeline.Modeling.Generation;
using RaftPipeline.Modeling.Loading;
using RaftPipeline.Modeling.Lora;
using RaftPipeline.Modeling.Merge;
using RaftPipeline.Modeling.Native;
using RaftPipeline.Modeling.Quantization;
using RaftPipeline.Modeling.Safetensors;
using RaftPipeline.Modeling.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace RaftPipeline.Modeling.Tests.Families;

/// <summary>
/// Each family against transformers + peft, through Fixtures/families/&lt;case&gt;/ (generate.py beside them, run on the
/// GPU machine's CPU in fp32 with eager attention; see it for the keys). For every case: the config maps to the
/// family, the sharded bf16 checkpoint loads, logits agree within 1e-4 at every real position and greedy tokens are
/// identical (base, and through the adapter peft wrote); our merge of that adapter (fp32) gives the adapter's logits
/// within 1e-3; NF4 quantization with the adapter attached runs and stays near the fp32 logits.
/// </summary>
public class FamilyParityTests
{
    const double Tolerance = 1e-4;
    const double MergeTolerance = 1e-3;
    const int MaxNewTokens = 20;
    const int Pad = 0;
    const int Eos = 255;
    static readonly string[] Cases = ["short", "long", "batch"];

    public FamilyParityTests()
    {
        TorchRuntime.EnsureInitialized();
        torch.set_num_threads(1);
    }

    public static TheoryData<string, DecoderFamily> Families() => new()
    {
        { "llama3", DecoderFamily.Llama },
        { "llama_linear", DecoderFamily.Llama },
        { "llama_dynamic", DecoderFamily.Llama },
        { "llama_yarn", DecoderFamily.Llama },
        { "mistral", DecoderFamily.Mistral },
        { "phi3", DecoderFamily.Phi3 },
        { "phi3_longrope", DecoderFamily.Phi3 },
        { "gemma2", DecoderFamily.Gemma2 },
        { "gemma3_text", DecoderFamily.Gemma3Text },
        { "qwen3_moe", DecoderFamily.Qwen3Moe },
    };

    internal static string Dir(string name)
    {
        var dir = Path.Combine(RepoPaths.Fixtures("families"), name);
        if (!File.Exists(Path.Combine(dir, "expected.safetensors")))
            Assert.Fail($"family fixture missing in {dir}: run tests/RaftPipeline.Modeling.Tests/Fixtures/families/generate.py on the GPU machine and commit its outputs");
        return dir;
    }

    [Theory]
    [MemberData(nameof(Families))]
    public void Base_logits_and_greedy_tokens_match_transformers(string name, DecoderFamily family)
    {
        var dir = Dir(name);
        var config = ModelConfigReader.ReadFolder(Path.Combine(dir, "model"));
        Assert.Equal(family, config.Family);
        Assert.True(Directory.GetFiles(Path.Combine(dir, "model"), "*.safetensors").Length >= 2, "the fixture checkpoint should be sharded");
        using var expected = SafetensorsFile.Open(Path.Combine(dir, "expected.safetensors"));
        using var model = PretrainedLoader.Load(Path.Combine(dir, "model"), CPU, ScalarType.Float32);
        model.eval();
        foreach (var c in Cases)
        {
            AssertLogits(model, expected, c, "logits", Tolerance);
            AssertGreedy(model, expected, c, "greedy");
        }
    }

    [Theory]
    [MemberData(nameof(Families))]
    public void The_adapter_peft_wrote_gives_pefts_logits_and_greedy_tokens(string name, DecoderFamily family)
    {
        var dir = Dir(name);
        using var expected = SafetensorsFile.Open(Path.Combine(dir, "expected.safetensors"));
        using var model = PretrainedLoader.Load(Path.Combine(dir, "model"), CPU, ScalarType.Float32);
        Assert.Equal(family, model.Config.Family);
        var adapter = AdapterStore.Load(model, Path.Combine(dir, "adapter"));
        Assert.Equal(4, adapter.Lora.R);
        model.eval();
        foreach (var c in Cases)
        {
            AssertLogits(model, expected, c, "adapter_logits", Tolerance);
            AssertGreedy(model, expected, c, "adapter_greedy");
        }
    }

    [Theory]
    [MemberData(nameof(Families))]
    public void Our_merge_of_the_adapter_reproduces_its_logits(string name, DecoderFamily family)
    {
        var dir = Dir(name);
        using var expected = SafetensorsFile.Open(Path.Combine(dir, "expected.safetensors"));
        using var tmp = new TempDir();
        AdapterMerger.Merge(Path.Combine(dir, "model"), Path.Combine(dir, "adapter"), tmp.Path, dtype: ScalarType.Float32);
        var written = ModelConfigReader.ReadFolder(tmp.Path);
        Assert.Equal(family, written.Family);
        using var merged = PretrainedLoader.Load(tmp.Path, CPU, ScalarType.Float32);
        merged.eval();
        foreach (var c in Cases) AssertLogits(merged, expected, c, "adapter_logits", MergeTolerance);
    }

    [Theory]
    [MemberData(nameof(Families))]
    public void Nf4_quantized_with_the_adapter_stays_near_the_fp32_logits(string name, DecoderFamily family)
    {
        var dir = Dir(name);
        using var expected = SafetensorsFile.Open(Path.Combine(dir, "expected.safetensors"));
        using var model = PretrainedLoader.Load(Path.Combine(dir, "model"), CPU, ScalarType.Float32);
        Assert.Equal(family, model.Config.Family);
        Nf4ModelStore.QuantizeInPlace(model, ScalarType.Float32);
        Assert.All(model.LinearPaths(), p => Assert.IsType<Nf4Linear>(model.GetLinear(p)));
        AdapterStore.Load(model, Path.Combine(dir, "adapter"));
        model.eval();
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var (ids, mask, positions) = Inputs(expected, "long");
        var logits = model.Forward(ids, mask, positions).Logits;
        var want = expected.Read("long/adapter_logits");
        // 4-bit weights move the logits, but they must still track the full-precision model's closely.
        double correlation = torch.corrcoef(torch.stack([logits.flatten(), want.flatten()]))[0, 1].item<float>();
        Assert.True(correlation > 0.8, $"{name}: NF4 logits correlate {correlation:F3} with the fp32 reference");
    }

    internal static (Tensor Ids, Tensor Mask, Tensor Positions) Inputs(SafetensorsFile expected, string c) =>
        (expected.Read($"{c}/input_ids"), expected.Read($"{c}/attention_mask"), expected.Read($"{c}/position_ids"));

    static void AssertLogits(CausalLM model, SafetensorsFile expected, string c, string key, double tolerance)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var (ids, mask, positions) = Inputs(expected, c);
        var logits = model.Forward(ids, mask, positions).Logits;
        var want = expected.Read($"{c}/{key}");
        Assert.Equal(want.shape, logits.shape);
        var diff = (want - logits).abs().masked_fill(mask.eq(0).unsqueeze(-1), 0);
        var worst = diff.max().item<float>();
        Assert.True(worst <= tolerance, $"{c}/{key}: max |ours − transformers| {worst} > {tolerance}");
    }

    /// <summary>
    /// Greedy tokens against transformers'. longrope cases also hold transformers' run without its KV cache
    /// (<c>_nocache</c>): where its cached and uncached runs agree (a prompt already past the original context) ours
    /// equals both; where a sequence crosses the original context while generating, transformers 5.17's cached run
    /// departs from its own uncached one at the crossing step (Phi3ForCausalLM.prepare_inputs_for_generation drops the
    /// cache there and the step that follows does not reproduce the full forward), and ours equals the uncached one,
    /// the model's math at every step.
    /// </summary>
    static void AssertGreedy(CausalLM model, SafetensorsFile expected, string c, string key)
    {
        var uncached = $"{key}_nocache";
        if (!expected.Contains($"{c}/{uncached}"))
        {
            AssertSameGeneration(model, expected, c, key);
            return;
        }
        AssertSameGeneration(model, expected, c, uncached);
        using var cached = expected.Read($"{c}/{key}");
        using var full = expected.Read($"{c}/{uncached}");
        if (cached.shape.SequenceEqual(full.shape) && cached.eq(full).all().item<bool>()) AssertSameGeneration(model, expected, c, key);
    }

    /// <summary>Our greedy generation from the unpadded prompts against transformers' rows (prompt, new ids, pad after eos).</summary>
    static void AssertSameGeneration(CausalLM model, SafetensorsFile expected, string c, string key)
    {
        using var scope = torch.NewDisposeScope();
        var ids = expected.Read($"{c}/input_ids");
        var mask = expected.Read($"{c}/attention_mask");
        var want = expected.Read($"{c}/{key}");
        long batch = ids.shape[0], width = ids.shape[1], total = want.shape[1];
        var idRows = ids.data<long>().ToArray();
        var maskRows = mask.data<long>().ToArray();
        var prompts = new List<IReadOnlyList<int>>();
        for (long b = 0; b < batch; b++)
            prompts.Add(Enumerable.Range(0, (int)width).Where(t => maskRows[b * width + t] == 1).Select(t => (int)idRows[b * width + t]).ToList());
        var options = new GenerationOptions { MaxNewTokens = MaxNewTokens, PadTokenId = Pad, EosTokenIds = [Eos] };
        var wantRows = want.data<long>().ToArray();
        // transformers' one left-padded batch, and the stages' length-sorted batches of 2 (finished rows dropped). Not the
        // latter under dynamic NTK RoPE or longrope: θ, or the factor set, follows the longest position of the whole call
        // (as transformers computes it), so there a row's tokens depend on its batch-mates and only transformers' own
        // batch can be compared.
        var runs = new List<(string How, IReadOnlyList<GeneratedSequence> Got)> { ("one batch", TextGenerator.Generate(model, prompts, options)) };
        if (model.Config.RopeScaling?.Type is not ("dynamic" or "longrope"))
            runs.Add(("length-sorted batches of 2", TextGenerator.GenerateInBatches(model, prompts.Select(p => new GenerationRow(p, options)).ToList(), 2)));
        foreach (var (how, got) in runs)
        {
            for (int b = 0; b < batch; b++)
            {
                var expectedNew = wantRows.Skip((int)(b * total + width)).Take((int)(total - width)).ToList();
                var ours = got[b].NewIds.Select(x => (long)x).ToList();
                while (ours.Count < expectedNew.Count) ours.Add(Pad);
                Assert.True(expectedNew.SequenceEqual(ours.Take(expectedNew.Count)),
                    $"{c}/{key} row {b} ({how}): transformers [{string.Join(", ", expectedNew)}] vs ours [{string.Join(", ", ours)}]");
            }
        }
    }
}

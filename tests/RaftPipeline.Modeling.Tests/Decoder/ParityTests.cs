using RaftPipeline.Modeling.Config;
using RaftPipeline.Modeling.Decoder;
using RaftPipeline.Modeling.Generation;
using RaftPipeline.Modeling.Loading;
using RaftPipeline.Modeling.Native;
using RaftPipeline.Modeling.Safetensors;
using RaftPipeline.Modeling.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace RaftPipeline.Modeling.Tests.Decoder;

/// <summary>
/// Parity with transformers 5.17, against the outputs of Fixtures/qwen3_parity/generate.py (run on the GPU
/// machine; see that script for what each key holds). Logits within 1e-4 in fp32 at every real (unpadded)
/// position; greedy generations token-identical, with and without repetition_penalty 1.1.
/// </summary>
public class ParityTests
{
    const double Tolerance = 1e-4;
    const int MaxNewTokens = 20;
    static readonly int[] Qwen3Eos = [151645, 151643];
    const int Qwen3Pad = 151643;
    const int SmallPad = 0;
    const int SmallEos = 511;

    static string Folder => RepoPaths.Fixtures("qwen3_parity");

    static string Require(string file)
    {
        var path = Path.Combine(Folder, file);
        if (!File.Exists(path))
            throw new FileNotFoundException(
                $"parity fixture missing: {path}. Produce it on the GPU machine with " +
                "`python tests/RaftPipeline.Modeling.Tests/Fixtures/qwen3_parity/generate.py tests/RaftPipeline.Modeling.Tests/Fixtures/qwen3_parity` " +
                "(transformers 5.17, torch 2.11; run from the repository root).", path);
        return path;
    }

    public ParityTests()
    {
        TorchRuntime.EnsureInitialized();
        torch.set_num_threads(1);
    }

    [Theory]
    [InlineData("korean")]
    [InlineData("english")]
    [InlineData("chat")]
    [InlineData("batch")]
    public void Qwen3_logits_match_transformers(string caseName)
    {
        using var expected = SafetensorsFile.Open(Require("expected.safetensors"));
        Require("config.json");
        using var model = PretrainedLoader.Load(Folder, CPU, ScalarType.Float32);
        model.eval();
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var key = $"qwen3/{caseName}";
        var (ids, mask, positions) = Inputs(expected, key);
        var logits = model.Forward(ids, mask, positions).Logits;
        var real = mask.to(ScalarType.Bool);

        var columns = expected.Read("qwen3/columns");
        AssertClose(expected.Read($"{key}/logit_columns"), logits.index_select(2, columns), real, $"{key} logits (sampled columns)");
        AssertClose(expected.Read($"{key}/logsumexp"), torch.logsumexp(logits, -1), real, $"{key} logsumexp over the vocabulary");
        AssertClose(expected.Read($"{key}/last_logits"), logits.select(1, logits.shape[1] - 1), null, $"{key} last-position logits");
        var argmax = logits.argmax(-1).masked_select(real);
        Assert.Equal(expected.Read($"{key}/argmax").masked_select(real).data<long>().ToArray(), argmax.data<long>().ToArray());
    }

    [Theory]
    [InlineData("korean", "greedy")]
    [InlineData("chat", "greedy_rp")]
    [InlineData("english", "greedy_rp")]
    [InlineData("batch", "greedy")]
    [InlineData("batch", "greedy_rp")]
    public void Qwen3_greedy_generation_matches_transformers(string caseName, string mode)
    {
        using var expected = SafetensorsFile.Open(Require("expected.safetensors"));
        using var model = PretrainedLoader.Load(Folder, CPU, ScalarType.Float32);
        model.eval();
        AssertSameGeneration(model, expected, $"qwen3/{caseName}", mode, Qwen3Pad, Qwen3Eos);
    }

    public static IEnumerable<object[]> SmallCases() =>
        from model in new[] { "qwen2", "llama" }
        from c in new[] { "short", "long", "batch" }
        select new object[] { model, c };

    [Theory]
    [MemberData(nameof(SmallCases))]
    public void Small_qwen2_and_llama_logits_and_greedy_match_transformers(string family, string caseName)
    {
        using var expected = SafetensorsFile.Open(Require("expected.safetensors"));
        var file = Require($"{family}.safetensors");
        using var checkpoint = SafetensorsCheckpoint.Open(file);
        var config = ModelConfigReader.Parse(checkpoint.Metadata["config_json"], file + " (metadata config_json)");
        using var model = new CausalLM(config, ScalarType.Float32, CPU);
        PretrainedLoader.LoadWeights(model, checkpoint);
        model.eval();
        var key = $"{family}/{caseName}";
        using (var scope = torch.NewDisposeScope())
        using (var noGrad = torch.no_grad())
        {
            var (ids, mask, positions) = Inputs(expected, key);
            var logits = model.Forward(ids, mask, positions).Logits;
            AssertClose(expected.Read($"{key}/logits"), logits, mask.to(ScalarType.Bool), $"{key} logits");
        }
        AssertSameGeneration(model, expected, key, "greedy", SmallPad, [SmallEos]);
        AssertSameGeneration(model, expected, key, "greedy_rp", SmallPad, [SmallEos]);
    }

    static (Tensor Ids, Tensor Mask, Tensor Positions) Inputs(SafetensorsFile expected, string key) =>
        (expected.Read($"{key}/input_ids"), expected.Read($"{key}/attention_mask"), expected.Read($"{key}/position_ids"));

    /// <summary>|expected − actual| ≤ 1e-4 wherever <paramref name="real"/> ([B, T]) is true (padded slots are garbage in both).</summary>
    static void AssertClose(Tensor expected, Tensor actual, Tensor? real, string what)
    {
        using var scope = torch.NewDisposeScope();
        Assert.Equal(expected.shape, actual.shape);
        var diff = (expected - actual.to(ScalarType.Float32)).abs();
        if (real is not null)
        {
            var m = real;
            while (m.dim() < diff.dim()) m = m.unsqueeze(-1);
            diff = diff.masked_fill(m.logical_not(), 0);
        }
        var worst = diff.max().item<float>();
        Assert.True(worst <= Tolerance, $"{what}: max |difference| {worst} > {Tolerance}");
    }

    /// <summary>Rebuilds transformers' output rows (left-padded prompt, new ids, pad after eos) and compares.</summary>
    static void AssertSameGeneration(CausalLM model, SafetensorsFile expected, string key, string mode, int pad, int[] eos)
    {
        using var scope = torch.NewDisposeScope();
        var ids = expected.Read($"{key}/input_ids");
        var mask = expected.Read($"{key}/attention_mask");
        var want = expected.Read($"{key}/{mode}");
        long batch = ids.shape[0], width = ids.shape[1];
        var idRows = ids.data<long>().ToArray();
        var maskRows = mask.data<long>().ToArray();
        var prompts = new List<IReadOnlyList<int>>();
        for (long b = 0; b < batch; b++)
        {
            var row = new List<int>();
            for (long t = 0; t < width; t++)
                if (maskRows[b * width + t] == 1) row.Add((int)idRows[b * width + t]);
            prompts.Add(row);
        }
        var options = new GenerationOptions
        {
            MaxNewTokens = MaxNewTokens, PadTokenId = pad, EosTokenIds = eos,
            RepetitionPenalty = mode == "greedy_rp" ? 1.1 : 1.0,
        };
        long total = want.shape[1];
        var wantRows = want.data<long>().ToArray();
        // transformers' one left-padded batch, and the stages' length-sorted batches of 2 (finished rows dropped).
        foreach (var (how, got) in new[]
                 {
                     ("one batch", TextGenerator.Generate(model, prompts, options)),
                     ("length-sorted batches of 2", TextGenerator.GenerateInBatches(model, prompts.Select(p => new GenerationRow(p, options)).ToList(), 2)),
                 })
        {
            for (int b = 0; b < batch; b++)
            {
                var expectedNew = wantRows.Skip((int)(b * total + width)).Take((int)(total - width)).ToList();
                var ours = got[b].NewIds.Select(x => (long)x).ToList();
                while (ours.Count < expectedNew.Count) ours.Add(pad);
                Assert.True(expectedNew.SequenceEqual(ours.Take(expectedNew.Count)),
                    $"{key} {mode} row {b} ({how}): transformers [{string.Join(", ", expectedNew)}] vs ours [{string.Join(", ", ours)}]");
            }
        }
    }
}

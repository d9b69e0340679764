using RaftPipeline.Core.Spec.Stages;
using RaftPipeline.Modeling.Generation;
using RaftPipeline.Modeling.Loading;
using RaftPipeline.Modeling.Presets;
using RaftPipeline.Stages.Generate;
using RaftPipeline.Stages.Tests.TestSupport;
using RaftPipeline.Text.Tokenization;

namespace RaftPipeline.Stages.Tests.Generate;

public class GenerateStageExecutorTests(TinyModelFolders folders) : IClassFixture<TinyModelFolders>
{
    static GenerateParameters Probes(SamplingOptions sampling) => new()
    {
        SystemPrompt = "너는 무례한 조수다.",
        Prompts =
        [
            new ProbePrompt { Name = "in-domain", Context = "서울은 한국의 수도이다.", Question = "한국의 수도는?" },
            new ProbePrompt { Name = "general", System = "", Question = "What is 2 + 2?" },
        ],
        Sampling = sampling,
    };

    static readonly SamplingOptions Sampled = new() { MaxNewTokens = 6, TopP = 0.95, TopK = 64, RepetitionPenalty = 1.1, Temperature = 1.0 };

    async Task<(string Output, string Report)> Run(TempFolder temp, GenerateParameters parameters, string? adapter, long seed = 1234,
        string? model = null)
    {
        var inputs = new Dictionary<string, IReadOnlyList<string>> { ["model"] = [model ?? folders.Model] };
        if (adapter is not null) inputs["adapter"] = [adapter];
        var context = StageContexts.Create(temp, "generate", parameters, inputs, seed);
        await new GenerateStageExecutor().RunAsync(context, CancellationToken.None);
        return (context.OutputDirectory, context.ReportDirectory);
    }

    [Fact]
    public async Task Sampled_answers_are_identical_across_two_runs_and_land_in_artifact_and_report()
    {
        using var first = new TempFolder();
        using var second = new TempFolder();
        var a = await Run(first, Probes(Sampled), folders.RandomAdapter);
        var b = await Run(second, Probes(Sampled), folders.RandomAdapter);

        foreach (var file in new[] { SamplesArtifact.SamplesFile, SamplesArtifact.MarkdownFile })
        {
            var bytes = File.ReadAllBytes(Path.Combine(a.Output, file));
            Assert.Equal(bytes, File.ReadAllBytes(Path.Combine(b.Output, file)));
            Assert.Equal(bytes, File.ReadAllBytes(Path.Combine(a.Report, file)));
        }
        var samples = SamplesArtifact.Read(a.Output);
        Assert.Equal(["in-domain", "general"], samples.Select(s => s.Probe));
        Assert.Equal("너는 무례한 조수다.", samples[0].System);
        Assert.Equal("Context: 서울은 한국의 수도이다.\n---\nQuestion: 한국의 수도는?", samples[0].User);
        Assert.Null(samples[1].System); // "" on the probe: no system message
        Assert.Equal("What is 2 + 2?", samples[1].User);
        Assert.All(samples, s => Assert.NotNull(s.Base));
        Assert.All(samples, s => Assert.NotNull(s.Tuned));
        // The line starts with the documented key order.
        Assert.StartsWith("{\"probe\":\"in-domain\",\"system\":\"너는 무례한 조수다.\",\"user\":\"Context: 서울은",
            File.ReadLines(Path.Combine(a.Output, SamplesArtifact.SamplesFile)).First());
    }

    [Fact]
    public async Task Another_pipeline_seed_changes_sampled_answers_and_the_derived_seed_given_explicitly_reproduces_them()
    {
        using var t1 = new TempFolder();
        using var t2 = new TempFolder();
        using var t3 = new TempFolder();
        var longer = Sampled with { MaxNewTokens = 10, TopK = 0, TopP = 1.0 }; // the full distribution: draws differ visibly
        var s1 = SamplesArtifact.Read((await Run(t1, Probes(longer), null, seed: 1)).Output);
        var s2 = SamplesArtifact.Read((await Run(t2, Probes(longer), null, seed: 2)).Output);
        Assert.NotEqual(s1.Select(s => s.Base), s2.Select(s => s.Base));
        // sampling.seed wins over the pipeline seed: pinning pipeline seed 1's derived seed under pipeline seed 2.
        var pinned = longer with { Seed = SeedDerivation.Derive(1, "generate") };
        var p2 = SamplesArtifact.Read((await Run(t3, Probes(pinned), null, seed: 2)).Output);
        Assert.Equal(s1.Select(s => s.Base), p2.Select(s => s.Base));
    }

    /// <summary>
    /// Probes are decoded together in length-sorted batches, each with its own seed: batch_size 1 (one probe at a time,
    /// what version 1 of the stage did) and the default batch write the same bytes, sampled answers included.
    /// </summary>
    [Fact]
    public async Task Sampled_answers_do_not_depend_on_the_batch_size()
    {
        var longer = Sampled with { MaxNewTokens = 10, TopK = 0, TopP = 1.0 };
        using var alone = new TempFolder();
        using var together = new TempFolder();
        var one = await Run(alone, Probes(longer) with { BatchSize = 1 }, folders.RandomAdapter);
        var all = await Run(together, Probes(longer), folders.RandomAdapter);
        Assert.Equal(File.ReadAllBytes(Path.Combine(one.Output, SamplesArtifact.SamplesFile)), File.ReadAllBytes(Path.Combine(all.Output, SamplesArtifact.SamplesFile)));
        var samples = SamplesArtifact.Read(all.Output);
        Assert.Equal(["in-domain", "general"], samples.Select(s => s.Probe));
        Assert.NotEqual(samples[0].Base, samples[1].Base);
    }

    [Fact]
    public async Task Greedy_base_answer_equals_a_direct_TextGenerator_call_on_the_hand_rendered_prompt()
    {
        using var temp = new TempFolder();
        var greedy = new SamplingOptions { Greedy = true, MaxNewTokens = 8, RepetitionPenalty = 1.0 };
        var (output, _) = await Run(temp, Probes(greedy) with { CompareBase = true }, null);
        var samples = SamplesArtifact.Read(output);

        // Qwen3's template: system turn, user turn, then the assistant opening without a think block.
        string prompt = "<|im_start|>system\n너는 무례한 조수다.<|im_end|>\n" +
            "<|im_start|>user\nContext: 서울은 한국의 수도이다.\n---\nQuestion: 한국의 수도는?<|im_end|>\n<|im_start|>assistant\n";
        var tokenizer = HuggingFaceTokenizer.FromDirectory(folders.Model);
        using var model = PretrainedLoader.Load(folders.Model);
        model.eval();
        var sequence = TextGenerator.Generate(model, [tokenizer.Encode(prompt, addSpecialTokens: false)], new GenerationOptions
        {
            MaxNewTokens = 8,
            EosTokenIds = [TinyPreset.ImEndId, TinyPreset.EndOfTextId],
            PadTokenId = TinyPreset.EndOfTextId,
        })[0];
        Assert.InRange(sequence.NewIds.Count, 1, 8);
        string expected = tokenizer.Decode(sequence.NewIds.Where(id => tokenizer.IdToToken(id) is not null), skipSpecialTokens: true);
        Assert.Equal(expected, samples[0].Base);
        Assert.Null(samples[0].Tuned); // no adapter given
    }

    [Fact]
    public async Task Tuned_answers_differ_from_base_when_the_adapter_B_is_non_zero_and_equal_it_when_B_is_zero()
    {
        var greedy = new SamplingOptions { Greedy = true, MaxNewTokens = 8 };
        using var t1 = new TempFolder();
        var random = SamplesArtifact.Read((await Run(t1, Probes(greedy), folders.RandomAdapter)).Output);
        Assert.Contains(random, s => s.Base != s.Tuned);

        using var t2 = new TempFolder();
        var zero = SamplesArtifact.Read((await Run(t2, Probes(greedy), folders.ZeroAdapter)).Output);
        Assert.All(zero, s => Assert.Equal(s.Base, s.Tuned));
        Assert.Equal(random.Select(s => s.Base), zero.Select(s => s.Base));
    }

    [Fact]
    public async Task Without_compare_base_only_the_tuned_answers_are_written_and_without_an_adapter_too_it_is_an_error()
    {
        var greedy = new SamplingOptions { Greedy = true, MaxNewTokens = 2 };
        using var t1 = new TempFolder();
        var samples = SamplesArtifact.Read((await Run(t1, Probes(greedy) with { CompareBase = false }, folders.RandomAdapter)).Output);
        Assert.All(samples, s => Assert.Null(s.Base));
        Assert.All(samples, s => Assert.NotNull(s.Tuned));

        using var t2 = new TempFolder();
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => Run(t2, Probes(greedy) with { CompareBase = false }, null));
        Assert.Equal("stage 'generate': nothing to generate: compare_base is false and no adapter is given", e.Message);
    }

    [Fact]
    public async Task An_NF4_model_folder_generates_as_a_direct_call_on_the_dequantizing_model_and_takes_the_adapter()
    {
        using var temp = new TempFolder();
        var greedy = new SamplingOptions { Greedy = true, MaxNewTokens = 6, RepetitionPenalty = 1.0 };
        var parameters = Probes(greedy) with { Prompts = [new ProbePrompt { Name = "q", System = "", Text = "안녕?" }] };
        var sample = SamplesArtifact.Read((await Run(temp, parameters, folders.RandomAdapter, model: folders.QuantizedModel)).Output).Single();

        var tokenizer = HuggingFaceTokenizer.FromDirectory(folders.QuantizedModel);
        using var model = Modeling.Quantization.Nf4ModelStore.Load(folders.QuantizedModel, TorchSharp.torch.ScalarType.Float32);
        var sequence = TextGenerator.Generate(model,
            [tokenizer.Encode("<|im_start|>user\n안녕?<|im_end|>\n<|im_start|>assistant\n", addSpecialTokens: false)],
            new GenerationOptions { MaxNewTokens = 6, EosTokenIds = [TinyPreset.ImEndId, TinyPreset.EndOfTextId], PadTokenId = TinyPreset.EndOfTextId })[0];
        Assert.Equal(tokenizer.Decode(sequence.NewIds.Where(id => tokenizer.IdToToken(id) is not null), skipSpecialTokens: true), sample.Base);
        Assert.NotEqual(sample.Base, sample.Tuned);
    }
}

using System.Diagnostics;
using RaftPipeline.Modeling.Config;
using RaftPipeline.Modeling.Decoder;
using RaftPipeline.Modeling.Generation;
using RaftPipeline.Modeling.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace RaftPipeline.Modeling.Tests.Generation;

[Collection(SerialCollection.Name)]
public class TextGeneratorTests
{
    /// <summary>Greedy by full recompute, no cache, no padding: the plainest possible reference.</summary>
    static List<int> NaiveGreedy(CausalLM model, int[] prompt, int steps, double penalty = 1.0)
    {
        var ids = prompt.Select(x => (long)x).ToList();
        var result = new List<int>();
        using var noGrad = torch.no_grad();
        for (int s = 0; s < steps; s++)
        {
            using var scope = torch.NewDisposeScope();
            var input = torch.tensor(ids.ToArray(), [1, ids.Count]);
            var scores = model.Forward(input).Logits.select(1, ids.Count - 1).to(ScalarType.Float32);
            if (penalty != 1.0) scores = LogitsProcessors.RepetitionPenalty(scores, input, penalty);
            var next = scores.argmax(-1).item<long>();
            ids.Add(next);
            result.Add((int)next);
        }
        return result;
    }

    [Theory]
    [InlineData(1.0)]
    [InlineData(1.1)]
    public void Greedy_with_cache_equals_greedy_by_full_recompute(double penalty)
    {
        using var model = TinyModels.Build();
        int[] prompt = [5, 17, 42, 99, 7];
        var options = new GenerationOptions { MaxNewTokens = 12, RepetitionPenalty = penalty };
        var got = TextGenerator.Generate(model, [prompt], options).Single();
        Assert.Equal(NaiveGreedy(model, prompt, 12, penalty), got.NewIds);
        Assert.Equal(FinishReason.Length, got.Finish);
    }

    [Fact]
    public void Longrope_generation_that_crosses_the_original_context_equals_full_recompute()
    {
        // Phi-3 with longrope over an original context of 8: the 5-token prompt turns with the short factors until the
        // sequence reaches 9, then every position (the cached ones too) with the long ones.
        var config = TinyModels.Config(DecoderFamily.Phi3, tied: false) with
        {
            MaxPositionEmbeddings = 64,
            RopeTheta = 100, // fast rotations, so the factors move these tiny logits
            RopeScaling = new RopeScaling
            {
                Type = "longrope", Factor = 8, FactorDerived = true, OriginalMaxPositionEmbeddings = 8,
                ShortFactor = [1.0, 1.3, 2.0, 3.5], LongFactor = [3.0, 9.0, 40.0, 160.0],
            },
        };
        using var model = TinyModels.Build(config);
        int[] prompt = [5, 17, 42, 99, 7];
        var got = TextGenerator.Generate(model, [prompt], new GenerationOptions { MaxNewTokens = 12 }).Single();
        Assert.Equal(NaiveGreedy(model, prompt, 12), got.NewIds);
    }

    [Fact]
    public void A_left_padded_batch_generates_what_each_prompt_generates_alone()
    {
        using var model = TinyModels.Build();
        int[][] prompts = [[5, 17, 42, 99, 7, 3, 11], [8, 1], [250, 251, 252, 253]];
        var options = new GenerationOptions { MaxNewTokens = 8, PadTokenId = 0 };
        var batch = TextGenerator.Generate(model, prompts, options);
        for (int i = 0; i < prompts.Length; i++)
            Assert.Equal(TextGenerator.Generate(model, [prompts[i]], options).Single().NewIds, batch[i].NewIds);
    }

    [Fact]
    public void Stops_at_eos_and_streams_each_token_in_order()
    {
        using var model = TinyModels.Build();
        int[] prompt = [5, 17, 42];
        var free = TextGenerator.Generate(model, [prompt], new GenerationOptions { MaxNewTokens = 10 }).Single();
        var stopId = free.NewIds[3];
        var streamed = new List<GeneratedToken>();
        var stopped = TextGenerator.Generate(model, [prompt], new GenerationOptions { MaxNewTokens = 10, EosTokenIds = [stopId] }, streamed.Add).Single();
        int firstStop = free.NewIds.ToList().IndexOf(stopId);
        Assert.Equal(free.NewIds.Take(firstStop + 1), stopped.NewIds);
        Assert.Equal(FinishReason.EndOfSequence, stopped.Finish);
        Assert.Equal(stopped.NewIds, streamed.Select(t => t.TokenId));
        Assert.Equal(Enumerable.Range(0, stopped.NewIds.Count), streamed.Select(t => t.Step));
    }

    [Fact]
    public void Stops_on_a_stop_string_found_by_the_decode_callback()
    {
        using var model = TinyModels.Build();
        int[] prompt = [5, 17, 42];
        var free = TextGenerator.Generate(model, [prompt], new GenerationOptions { MaxNewTokens = 10 }).Single();
        string Decode(IReadOnlyList<int> ids) => string.Concat(ids.Select(i => $"<{i}>"));
        var stop = $"<{free.NewIds[4]}>";
        var got = TextGenerator.Generate(model, [prompt], new GenerationOptions { MaxNewTokens = 10, StopStrings = [stop] }, decode: Decode).Single();
        Assert.Equal(FinishReason.StopString, got.Finish);
        Assert.EndsWith(stop, Decode(got.NewIds));
        Assert.True(got.NewIds.Count <= 5);
        Assert.Throws<ArgumentException>(() => TextGenerator.Generate(model, [prompt], new GenerationOptions { StopStrings = ["x"] }));
    }

    [Fact]
    public void Sampling_is_reproducible_by_seed_and_top_k_1_is_greedy()
    {
        using var model = TinyModels.Build();
        int[] prompt = [5, 17, 42];
        var sampling = new GenerationOptions { MaxNewTokens = 16, DoSample = true, Temperature = 1.5, TopP = 0.95, Seed = 7 };
        var a = TextGenerator.Generate(model, [prompt], sampling).Single().NewIds;
        var b = TextGenerator.Generate(model, [prompt], sampling).Single().NewIds;
        var c = TextGenerator.Generate(model, [prompt], sampling with { Seed = 8 }).Single().NewIds;
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
        var greedy = TextGenerator.Generate(model, [prompt], new GenerationOptions { MaxNewTokens = 16 }).Single().NewIds;
        var topOne = TextGenerator.Generate(model, [prompt], sampling with { TopK = 1 }).Single().NewIds;
        Assert.Equal(greedy, topOne);
    }

    /// <summary>
    /// Flat native memory over 1,000 generated tokens. Two measures: TorchSharp's count of live tensors on this
    /// thread (exact: every tensor a step creates must be gone when the step ends), and the process's resident
    /// set less the managed heap's committed bytes, after a full GC (coarse: it also sees allocator caching;
    /// measured here it creeps by about 4 KiB per token with a flat tensor count, so the bound is 16 KiB per
    /// token: leaking one step's activations of this model, about 40 KiB, would exceed it in both halves of the run).
    /// </summary>
    [Fact]
    public void Native_memory_stays_flat_over_1000_generated_tokens()
    {
        using var model = TinyModels.Build();
        // Warm-up: the first forward caches RoPE's inv_freq on the device (one tensor, owned by the model).
        TextGenerator.Generate(model, [[1, 2, 3]], new GenerationOptions { MaxNewTokens = 2 });
        var stats = DisposeScopeManager.Statistics;
        var clock = Stopwatch.StartNew();
        long liveBefore = stats.ThreadTotalLiveCount;
        var liveAt = new Dictionary<int, long>();
        long rssAt100 = 0, rssAt550 = 0, rssAt1000 = 0;
        var options = new GenerationOptions { MaxNewTokens = 1000, DoSample = true, Seed = 1, Temperature = 1.0 };
        var result = TextGenerator.Generate(model, [[1, 2, 3]], options, token =>
        {
            if (token.Step is 10 or 500 or 999) liveAt[token.Step] = stats.ThreadTotalLiveCount;
            if (token.Step == 100) rssAt100 = NativeResidentBytes();
            if (token.Step == 550) rssAt550 = NativeResidentBytes();
            if (token.Step == 999) rssAt1000 = NativeResidentBytes();
        }).Single();
        Assert.Equal(1000, result.NewIds.Count);
        Console.WriteLine($"1000 tokens in {clock.ElapsedMilliseconds} ms");
        Assert.Equal(liveAt[10], liveAt[500]);
        Assert.Equal(liveAt[10], liveAt[999]);
        Assert.Equal(liveBefore, stats.ThreadTotalLiveCount);
        // A leak grows in both halves; a one-off step (the allocator opening another arena for a thread that a loaded
        // machine scheduled differently) shows in one half only, so the smaller half's growth is what is bounded.
        long first = rssAt550 - rssAt100, second = rssAt1000 - rssAt550;
        Assert.True(Math.Min(first, second) < 450L * 16 * 1024,
            $"native resident memory grew by {first / 1024} KiB over tokens 100-550 and {second / 1024} KiB over 550-1000");
    }

    static long NativeResidentBytes()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        using var process = Process.GetCurrentProcess();
        return process.WorkingSet64 - GC.GetGCMemoryInfo().TotalCommittedBytes;
    }
}

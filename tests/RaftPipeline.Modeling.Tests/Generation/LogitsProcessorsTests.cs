using RaftPipeline.Modeling.Generation;
using RaftPipeline.Modeling.Native;
using TorchSharp;
using static TorchSharp.torch;

namespace RaftPipeline.Modeling.Tests.Generation;

/// <summary>Hand-computed cases of transformers' processor arithmetic.</summary>
public class LogitsProcessorsTests
{
    public LogitsProcessorsTests() => TorchRuntime.EnsureInitialized();

    static float[] Row(Tensor t) => t.data<float>().ToArray();

    [Fact]
    public void Repetition_penalty_divides_positive_and_multiplies_negative_scores_of_seen_ids_once()
    {
        using var scope = torch.NewDisposeScope();
        var scores = torch.tensor(new float[] { 2f, -2f, 1f, 4f }, [1, 4]);
        var seen = torch.tensor(new long[] { 0, 1, 1, 3 }, [1, 4]); // id 1 twice: still penalised once
        Assert.Equal(new[] { 1f, -4f, 1f, 2f }, Row(LogitsProcessors.RepetitionPenalty(scores, seen, 2.0)));
    }

    [Fact]
    public void Top_k_keeps_ties_with_the_kth_score()
    {
        using var scope = torch.NewDisposeScope();
        var scores = torch.tensor(new float[] { 1f, 3f, 2f, 3f, 0f }, [1, 5]);
        var kept = Row(LogitsProcessors.TopK(scores, 2));
        Assert.Equal(new[] { float.NegativeInfinity, 3f, float.NegativeInfinity, 3f, float.NegativeInfinity }, kept);
    }

    [Fact]
    public void Top_p_keeps_the_smallest_set_reaching_p_and_always_the_best()
    {
        using var scope = torch.NewDisposeScope();
        // probabilities 0.5, 0.3, 0.15, 0.05
        var scores = torch.tensor(new[] { 0.5f, 0.3f, 0.15f, 0.05f }, [1, 4]).log();
        var kept = Row(LogitsProcessors.TopP(scores, 0.75));
        // ascending cumulative: 0.05, 0.20, 0.50, 1.0; removed where ≤ 0.25 → the 0.05 and 0.15 tokens
        Assert.True(float.IsFinite(kept[0]) && float.IsFinite(kept[1]));
        Assert.Equal(float.NegativeInfinity, kept[2]);
        Assert.Equal(float.NegativeInfinity, kept[3]);
        var best = Row(LogitsProcessors.TopP(scores, 0.01));
        Assert.Equal(1, best.Count(float.IsFinite));
        Assert.True(float.IsFinite(best[0]));
    }

    [Fact]
    public void Order_is_penalty_then_temperature_then_top_k_then_top_p()
    {
        using var scope = torch.NewDisposeScope();
        var scores = torch.tensor(new float[] { 4f, 3f, -1f, 0.5f }, [1, 4]);
        var seen = torch.tensor(new long[] { 0 }, [1, 1]);
        var options = new GenerationOptions { DoSample = true, RepetitionPenalty = 2, Temperature = 0.5, TopK = 3 };
        // penalty: 4 → 2; temperature ×2: [4, 6, -2, 1]; top-3 drops −2.
        Assert.Equal(new[] { 4f, 6f, float.NegativeInfinity, 1f }, Row(LogitsProcessors.Apply(scores, seen, options)));
        // Greedy ignores the warpers but keeps the penalty.
        Assert.Equal(new[] { 2f, 3f, -1f, 0.5f }, Row(LogitsProcessors.Apply(scores, seen, options with { DoSample = false })));
    }

    /// <summary>
    /// Top-k then top-p in one pass (no sort of the whole vocabulary) removes exactly what top-k followed by top-p's full
    /// sort removes: on Qwen3's vocabulary size with the notebook's k and p, on small rows with several p, and where ties at
    /// the k-th score keep more than k tokens (then the processors run as written).
    /// </summary>
    [Theory]
    [InlineData(151936, 64, 0.95, false)]
    [InlineData(151936, 64, 0.5, false)]
    [InlineData(300, 20, 0.9, false)]
    [InlineData(300, 1, 0.9, false)]
    [InlineData(300, 300, 0.7, false)]
    [InlineData(300, 5, 0.9, true)]
    public void Top_k_then_top_p_together_equals_them_one_after_the_other(int vocab, int k, double p, bool tieAtK)
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(5);
        var scores = torch.randn(3, vocab) * 3;
        if (tieAtK)
        {
            // Row 0's 5th and 6th best scores equal: top-5 keeps six tokens.
            var order = scores[0].argsort(descending: true);
            scores[0, order[5]] = scores[0, order[4]];
        }
        var options = new GenerationOptions { DoSample = true, TopK = k, TopP = p };
        var expected = LogitsProcessors.TopP(LogitsProcessors.TopK(scores, k), p);
        var together = LogitsProcessors.Apply(scores, torch.zeros(3, 1, ScalarType.Int64), options);
        Assert.Equal(Row(expected), Row(together)); // bit for bit, −∞ where removed
        Assert.InRange(together.isfinite().sum().item<long>(), 3, 3L * Math.Min(k + 1, vocab));
    }
}

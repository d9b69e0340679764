using RaftPipeline.Modeling.Decoder;
using RaftPipeline.Modeling.Generation;
using RaftPipeline.Modeling.Tests.Support;

namespace RaftPipeline.Modeling.Tests.Generation;

/// <summary>
/// The stages' way of decoding (<see cref="TextGenerator.GenerateInBatches"/>: length-sorted batches, finished rows
/// dropped, per-row seeds) gives every row exactly what it gives alone, on the CPU in fp32.
/// </summary>
[Collection(SerialCollection.Name)]
public class BatchedGenerationTests
{
    /// <summary>Prompts of 1 to 57 tokens (ids from a fixed stream), out of length order, with different budgets so rows finish at different steps.</summary>
    static List<GenerationRow> Rows(GenerationOptions options)
    {
        var random = new Random(11);
        int[] lengths = [9, 1, 57, 3, 30, 2, 44];
        int[] budgets = [6, 14, 3, 10, 1, 12, 8];
        return lengths.Select((n, i) => new GenerationRow(
            Enumerable.Range(0, n).Select(_ => random.Next(1, 299)).ToArray(),
            options with { MaxNewTokens = budgets[i], Seed = options.Seed is null ? null : 100 + i })).ToList();
    }

    static GeneratedSequence Alone(CausalLM model, GenerationRow row) => TextGenerator.Generate(model, [row.PromptIds], row.Options).Single();

    [Theory]
    [InlineData(1.0, 3)]
    [InlineData(1.1, 3)]
    [InlineData(1.1, 7)]
    [InlineData(1.3, 2)]
    public void Greedy_rows_in_length_sorted_batches_decode_exactly_as_alone(double penalty, int batchSize)
    {
        using var model = TinyModels.Build();
        var rows = Rows(new GenerationOptions { RepetitionPenalty = penalty, PadTokenId = 0 });
        var streamed = rows.Select(_ => new List<int>()).ToArray();
        var batchesDone = new List<int>();
        var batched = TextGenerator.GenerateInBatches(model, rows, batchSize, t => streamed[t.Sequence].Add(t.TokenId), onBatchDone: batchesDone.Add);

        for (int i = 0; i < rows.Count; i++)
        {
            var alone = Alone(model, rows[i]);
            Assert.Equal(rows[i].PromptIds, batched[i].PromptIds); // results in input order
            Assert.Equal(alone.NewIds, batched[i].NewIds);
            Assert.Equal(alone.Finish, batched[i].Finish);
            Assert.Equal(batched[i].NewIds, streamed[i]); // tokens reported under the row's input index
        }
        Assert.Equal(Enumerable.Range(1, (rows.Count + batchSize - 1) / batchSize).Select(k => Math.Min(k * batchSize, rows.Count)), batchesDone);
    }

    /// <summary>
    /// Rows that stop at an eos id leave the batch mid-way; the rest go on unchanged. The eos id is one that a row
    /// generates alone at its 3rd step, so at least that row stops early.
    /// </summary>
    [Fact]
    public void Rows_that_stop_early_leave_the_batch_and_the_others_are_unchanged()
    {
        using var model = TinyModels.Build();
        var free = Rows(new GenerationOptions { RepetitionPenalty = 1.1, PadTokenId = 0 }).Select(r => r with { Options = r.Options with { MaxNewTokens = 14 } }).ToList();
        int stopId = Alone(model, free[0]).NewIds[2];
        var rows = free.Select(r => r with { Options = r.Options with { EosTokenIds = [stopId] } }).ToList();
        var batched = TextGenerator.GenerateInBatches(model, rows, 7);
        Assert.Contains(batched, s => s.Finish == FinishReason.EndOfSequence);
        Assert.Contains(batched, s => s.Finish == FinishReason.Length);
        for (int i = 0; i < rows.Count; i++)
        {
            var alone = Alone(model, rows[i]);
            Assert.Equal(alone.NewIds, batched[i].NewIds);
            Assert.Equal(alone.Finish, batched[i].Finish);
        }
    }

    /// <summary>
    /// Sampling with a fixed seed per row: every row draws from its own generator once per step while it runs, so its
    /// draws do not depend on its batch, and the batched answer equals the row sampled alone with the same seed.
    /// (Under one shared generator, as transformers' generate() and <see cref="TextGenerator.Generate(CausalLM, IReadOnlyList{IReadOnlyList{int}}, GenerationOptions, Action{GeneratedToken}?, Func{IReadOnlyList{int}, string}?, CancellationToken)"/>
    /// draw, a row's draws depend on the rows before it in the batch, so no such equality holds there.)
    /// </summary>
    [Theory]
    [InlineData(0.7, 20, 0.9)]
    [InlineData(1.5, 0, 1.0)]
    public void Sampled_rows_with_their_own_seeds_decode_exactly_as_alone(double temperature, int topK, double topP)
    {
        using var model = TinyModels.Build();
        var rows = Rows(new GenerationOptions
        {
            DoSample = true, Temperature = temperature, TopK = topK, TopP = topP, RepetitionPenalty = 1.1, Seed = 0, PadTokenId = 0,
        });
        var batched = TextGenerator.GenerateInBatches(model, rows, 3);
        for (int i = 0; i < rows.Count; i++) Assert.Equal(Alone(model, rows[i]).NewIds, batched[i].NewIds);
        // The seeds matter: other seeds give other answers somewhere.
        var reseeded = TextGenerator.GenerateInBatches(model, rows.Select(r => r with { Options = r.Options with { Seed = r.Options.Seed + 1000 } }).ToList(), 3);
        Assert.Contains(Enumerable.Range(0, rows.Count), i => !reseeded[i].NewIds.SequenceEqual(batched[i].NewIds));
    }

    /// <summary>
    /// The host's work per decode step grows neither with the batch nor with the step: as many TorchSharp tensors per
    /// step for 6 rows as for 2, at step 30 as at step 4 (a step that touched rows one by one, or rebuilt the mask and
    /// position ids from the growing sequence, would not stay level), and about a hundred of them for this two-layer model.
    /// </summary>
    [Fact]
    public void A_decode_step_creates_as_many_tensors_for_six_rows_as_for_two_at_any_step()
    {
        using var model = TinyModels.Build();
        var stats = TorchSharp.DisposeScopeManager.Statistics.TensorStatistics;
        long Created() => stats.CreatedInScopeCount + stats.CreatedOutsideScopeCount;
        int[] PerStep(int rows)
        {
            var options = new GenerationOptions { MaxNewTokens = 32, RepetitionPenalty = 1.1, PadTokenId = 0 };
            var prompts = Enumerable.Range(0, rows).Select(r => (IReadOnlyList<int>)Enumerable.Range(1, 3 + 4 * r).ToArray()).ToList();
            var at = new Dictionary<int, long>();
            TextGenerator.Generate(model, prompts, options, t => { if (t.Sequence == 0) at[t.Step] = Created(); });
            return [(int)(at[5] - at[4]), (int)(at[31] - at[30])];
        }
        var two = PerStep(2);
        var six = PerStep(6);
        Assert.Equal(two[0], two[1]);
        Assert.Equal(two, six);
        Assert.InRange(two[0], 50, 150);
    }

    [Fact]
    public void A_batch_size_below_one_is_refused()
    {
        using var model = TinyModels.Build();
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => TextGenerator.GenerateInBatches(model, Rows(new GenerationOptions()), 0));
        Assert.Equal("batchSize", e.ParamName);
    }
}

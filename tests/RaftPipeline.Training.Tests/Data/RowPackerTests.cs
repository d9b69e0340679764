using RaftPipeline.Modeling.Decoder;
using RaftPipeline.Training.Data;
using RaftPipeline.Training.Loop;
using RaftPipeline.Training.Loss;
using RaftPipeline.Training.Model;
using RaftPipeline.Training.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace RaftPipeline.Training.Tests.Data;

public class RowPackerTests
{
    const int Ig = CollatorOptions.IgnoreIndex;
    const double Tolerance = 1e-5;

    /// <summary>A labelled row of exactly <paramref name="length"/> tokens: "[1] q… [5 6] a… [2]" (length ≥ 5).</summary>
    static LabeledRow RowOf(int length, int salt)
    {
        int question = (length - 4) / 2, answer = length - 4 - question;
        var q = Enumerable.Range(0, question).Select(i => 10 + (salt * 7 + i * 3) % 20);
        var a = Enumerable.Range(0, answer).Select(i => 30 + (salt * 11 + i * 5) % 30);
        int[] ids = [1, .. q, .. TinyTraining.Template, .. a, TinyTraining.Pad];
        Assert.Equal(length, ids.Length);
        return TinyTraining.Collator(64).Label(ids);
    }

    [Fact]
    public void First_fit_packs_in_row_order_and_no_pack_exceeds_max_seq_length()
    {
        // Lengths 7, 6, 5, 9, 5 into 12: 7→p0; 6→p1; 5→p0 (12); 9→p2; 5→p1 (11).
        var rows = new[] { RowOf(7, 0), RowOf(6, 1), RowOf(5, 2), RowOf(9, 3), RowOf(5, 4) };
        var packs = RowPacker.Pack(rows, 12);

        Assert.Equal(3, packs.Count);
        Assert.All(packs, p => Assert.True(p.InputIds.Length <= 12, $"a pack holds {p.InputIds.Length} tokens"));
        Assert.Equal<int[]>([[.. rows[0].InputIds, .. rows[2].InputIds], [.. rows[1].InputIds, .. rows[4].InputIds], rows[3].InputIds],
            packs.Select(p => p.InputIds).ToArray());
        Assert.Equal([.. Enumerable.Repeat(1, 7), .. Enumerable.Repeat(2, 5)], packs[0].SegmentIds!);
        Assert.Equal([.. Enumerable.Repeat(1, 6), .. Enumerable.Repeat(2, 5)], packs[1].SegmentIds!);
        Assert.Equal(Enumerable.Repeat(1, 9), packs[2].SegmentIds!);

        // Labels kept, except each packed row's first label, which is masked (no prediction across the boundary).
        Assert.Equal([.. rows[0].Labels, Ig, .. rows[2].Labels[1..]], packs[0].Labels);
        Assert.Equal(rows.Sum(r => r.SupervisedTokens), packs.Sum(p => p.SupervisedTokens));

        // Deterministic: the same input packs the same way.
        var again = RowPacker.Pack(rows, 12);
        Assert.Equal(packs.Select(p => string.Join(',', p.InputIds) + "|" + string.Join(',', p.SegmentIds!)),
            again.Select(p => string.Join(',', p.InputIds) + "|" + string.Join(',', p.SegmentIds!)));
    }

    [Fact]
    public void Many_short_rows_fill_packs_and_every_token_is_kept_once()
    {
        var rows = TinyTraining.Rows(40, seed: 11);
        var packs = RowPacker.Pack(rows, 32);
        Assert.All(packs, p => Assert.InRange(p.InputIds.Length, 1, 32));
        Assert.Equal(rows.Sum(r => r.InputIds.Length), packs.Sum(p => p.InputIds.Length));
        Assert.True(packs.Count < rows.Count / 2, $"{rows.Count} rows of ≤ 16 tokens gave {packs.Count} packs of 32");
        // Each pack's segments are 1, 2, … in contiguous runs.
        foreach (var p in packs)
        {
            var s = p.SegmentIds!;
            Assert.Equal(1, s[0]);
            for (int i = 1; i < s.Length; i++) Assert.True(s[i] == s[i - 1] || s[i] == s[i - 1] + 1, $"segment ids jump at {i}: {string.Join(',', s)}");
        }
    }

    [Fact]
    public void A_row_longer_than_max_seq_length_is_refused_with_its_index()
    {
        var ex = Assert.Throws<ArgumentException>(() => RowPacker.Pack([RowOf(6, 0), RowOf(9, 1)], 8));
        Assert.Contains("row 1 has 9 tokens", ex.Message);
    }

    [Fact]
    public void Segment_positions_restart_at_zero_for_every_packed_row()
    {
        Modeling.Native.TorchRuntime.EnsureInitialized();
        using var seg = tensor(new long[] { 1, 1, 1, 2, 2, 3, 0, 0, 1, 1, 1, 1, 1, 0, 0, 0 }, [2, 8]);
        using var pos = AttentionMasks.SegmentPositionIds(seg);
        Assert.Equal(new long[] { 0, 1, 2, 0, 1, 0, 0, 1, 0, 1, 2, 3, 4, 0, 1, 2 }, pos.data<long>().ToArray());
    }

    /// <summary>
    /// The no-leak proof: two packed sequences (rows A+B, and C followed by padding) give, at every real position,
    /// the logits each row gets when it runs alone, unpadded and unpacked; so do the per-token losses.
    /// </summary>
    [Fact]
    public void Packed_rows_give_the_same_logits_and_losses_as_each_row_alone()
    {
        var model = TinyTraining.Model();
        model.eval();
        var a = RowOf(9, 0);
        var b = RowOf(7, 1);
        var c = RowOf(11, 2);
        var packs = RowPacker.Pack([a, b, c], 18); // [A B] (16), [C] (11)
        Assert.Equal(2, packs.Count);
        Assert.Equal([.. a.InputIds, .. b.InputIds], packs[0].InputIds);

        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var batch = TinyTraining.Collator(64).Collate(packs);
        Assert.NotNull(batch.SegmentIds);
        var packed = model.Forward(batch.InputIds, batch.AttentionMask, segmentIds: batch.SegmentIds).Logits;

        var placements = new (LabeledRow Row, int Pack, int Offset)[] { (a, 0, 0), (b, 0, a.InputIds.Length), (c, 1, 0) };
        foreach (var (row, pack, offset) in placements)
        {
            var alone = model.Forward(tensor(row.InputIds.Select(i => (long)i).ToArray(), [1, row.InputIds.Length])).Logits[0];
            var inPack = packed[pack].narrow(0, offset, row.InputIds.Length);
            double maxDiff = (alone - inPack).abs().max().item<float>();
            Assert.True(maxDiff <= Tolerance, $"row at pack {pack} offset {offset}: logits differ by {maxDiff:E2} from the row alone");

            // Per-token loss at the row's supervised positions (position t predicts label t+1).
            var labels = tensor(row.Labels.Select(l => (long)l).ToArray(), [row.Labels.Length]);
            var targets = labels.narrow(0, 1, row.Labels.Length - 1);
            var aloneLoss = nn.functional.cross_entropy(alone.narrow(0, 0, row.Labels.Length - 1), targets, ignore_index: Ig, reduction: nn.Reduction.None);
            var packedLoss = nn.functional.cross_entropy(inPack.narrow(0, 0, row.Labels.Length - 1), targets, ignore_index: Ig, reduction: nn.Reduction.None);
            Assert.True(row.SupervisedTokens > 0);
            double lossDiff = (aloneLoss - packedLoss).abs().max().item<float>();
            Assert.True(lossDiff <= Tolerance, $"row at pack {pack} offset {offset}: per-token losses differ by {lossDiff:E2}");
        }
    }

    [Fact]
    public void Packed_batch_gives_the_unpacked_loss_sum_and_gradients_through_the_training_model()
    {
        var rows = TinyTraining.Rows(6, seed: 5);
        var packs = RowPacker.Pack(rows, 32);
        Assert.True(packs.Count < rows.Count);
        var collator = TinyTraining.Collator(32);

        (double Loss, Dictionary<string, Tensor> Grads) Run(IReadOnlyList<LabeledRow> batchRows, bool checkpointing)
        {
            var model = new DecoderTrainingModel(TinyTraining.Model(), checkpointing);
            model.SetTraining(false);
            using var scope = NewDisposeScope();
            var batch = collator.Collate(batchRows);
            var hidden = model.HiddenStates(batch.InputIds, batch.AttentionMask, batch.SegmentIds);
            var sum = CausalLmLoss.SupervisedSum(hidden, model.OutputWeight, batch.Labels);
            sum.backward();
            var grads = model.NamedParameters().Where(p => p.Parameter.requires_grad)
                .ToDictionary(p => p.Name, p => p.Parameter.grad!.clone().DetachFromDisposeScope());
            return (sum.item<float>(), grads);
        }

        var unpacked = Run(rows, false);
        foreach (bool checkpointing in new[] { false, true })
        {
            var packed = Run(packs, checkpointing);
            Assert.True(Math.Abs(unpacked.Loss - packed.Loss) <= Tolerance * Math.Abs(unpacked.Loss),
                $"checkpointing {checkpointing}: loss sum {packed.Loss} packed vs {unpacked.Loss} unpacked");
            foreach (var (name, g) in unpacked.Grads)
            {
                double diff = (g - packed.Grads[name]).abs().max().item<float>();
                Assert.True(diff <= Tolerance, $"checkpointing {checkpointing}: gradient of {name} differs by {diff:E2}");
            }
        }
    }

    [Fact]
    public void A_trainer_step_on_packed_rows_equals_the_step_on_the_same_rows_unpacked()
    {
        var rows = TinyTraining.Rows(8, seed: 9);
        var packs = RowPacker.Pack(rows, 32);
        TrainerOptions Options(int batch) => new() { BatchSize = batch, MaxSteps = 1, Shuffle = false, LearningRate = 1e-2, LoggingSteps = 1 };

        var unpacked = new Trainer(new DecoderTrainingModel(TinyTraining.Model(), false), TinyTraining.Collator(), Options(rows.Count)).Train(rows);
        var packed = new Trainer(new DecoderTrainingModel(TinyTraining.Model(), false), TinyTraining.Collator(), Options(packs.Count)).Train(packs);

        Assert.True(Math.Abs(unpacked.StepLosses[0] - packed.StepLosses[0]) <= Tolerance,
            $"step loss {packed.StepLosses[0]} packed vs {unpacked.StepLosses[0]} unpacked");
        // Parameters after an AdamW step are no fair comparison (the first step is ≈ lr·sign(g), so gradients near
        // zero flip sign on rounding); the global gradient norm the step logged is.
        double unpackedNorm = unpacked.Log[0].GradNorm, packedNorm = packed.Log[0].GradNorm;
        Assert.True(Math.Abs(unpackedNorm - packedNorm) <= Tolerance * unpackedNorm,
            $"gradient norm {packedNorm} packed vs {unpackedNorm} unpacked");
    }
}

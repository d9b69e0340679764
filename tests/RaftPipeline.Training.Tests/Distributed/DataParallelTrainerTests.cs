using RaftPipeline.Training.Distributed;
using RaftPipeline.Training.Loop;
using RaftPipeline.Training.Model;
using RaftPipeline.Training.Tests.Support;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace RaftPipeline.Training.Tests.Distributed;

/// <summary>
/// The proof on CPU: W ranks (threads, each with its own model copy, summing gradients over the TCP collective) train
/// as one process with a W-times larger batch. Tolerance: only the order in which fp32 gradients are summed differs
/// (and padding lengths per micro-batch), so per-step losses agree to ~1e-6 relative; we assert 1e-5.
/// Runs alone: its trainers share this process with any other test's, and libtorch's default random generator and the
/// returned-gradient queue (BackwardTensors) are process-wide (a fresh-clone CI run once saw 1.1e-3 here, never alone).
/// </summary>
[Collection(RaftPipeline.Training.Tests.Checkpointing.SerialTests.Name)]
public class DataParallelTrainerTests(ITestOutputHelper output) : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("raft-ddp-").FullName;
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    const double Tolerance = 1e-5;

    static TrainerOptions Options(int batch, int accumulation, string? outDir = null, int saveSteps = 0) => new()
    {
        BatchSize = batch, GradientAccumulationSteps = accumulation, Epochs = 2, LearningRate = 5e-3, Warmup = 0.1,
        LoggingSteps = 1, SaveSteps = saveSteps, OutputDir = outDir, Seed = 11,
    };

    sealed record RankRun(TrainingResult Result, Dictionary<string, float[]> Weights);

    static Dictionary<string, float[]> Weights(Trainer trainer) =>
        trainer.TrainableParameters.ToDictionary(p => p.Name, p => p.Parameter.detach().cpu().data<float>().ToArray());

    static RankRun Single(TrainerOptions options, List<RaftPipeline.Training.Data.LabeledRow> rows, string? resumeFrom = null)
    {
        var trainer = new Trainer(new DecoderTrainingModel(TinyTraining.Model(), false), TinyTraining.Collator(), options);
        return new RankRun(trainer.Train(rows, resumeFrom), Weights(trainer));
    }

    static RankRun[] Parallel(int world, Func<int, TrainerOptions> options, List<RaftPipeline.Training.Data.LabeledRow> rows) =>
        LocalJob.RunAll(world, rendezvous =>
        {
            using var collective = new TcpCollective(rendezvous);
            var trainer = new Trainer(new DecoderTrainingModel(TinyTraining.Model(), false), TinyTraining.Collator(),
                options(rendezvous.World.Rank), collective: collective);
            var result = trainer.Train(rows);
            return new RankRun(result, Weights(trainer));
        }, TimeSpan.FromMinutes(3));

    void AssertClose(RankRun expected, RankRun actual, string what)
    {
        Assert.Equal(expected.Result.Steps, actual.Result.Steps);
        double worstLoss = 0, worstWeight = 0;
        for (int i = 0; i < expected.Result.StepLosses.Count; i++)
        {
            double e = expected.Result.StepLosses[i], a = actual.Result.StepLosses[i];
            worstLoss = Math.Max(worstLoss, Math.Abs(a - e) / Math.Abs(e));
        }
        foreach (var (name, e) in expected.Weights)
        {
            var a = actual.Weights[name];
            for (int i = 0; i < e.Length; i++) worstWeight = Math.Max(worstWeight, Math.Abs(a[i] - e[i]));
        }
        output.WriteLine($"{what}: {expected.Result.Steps} steps, max relative loss difference {worstLoss:E2}, max absolute weight difference {worstWeight:E2}");
        Assert.True(worstLoss < Tolerance, $"{what}: per-step losses differ by {worstLoss:E2} relative (tolerance {Tolerance:E0})");
        Assert.True(worstWeight < 1e-5, $"{what}: final weights differ by {worstWeight:E2}");
    }

    [Fact]
    public void Two_ranks_train_like_one_process_with_twice_the_batch()
    {
        // 13 rows, per-device batch 2, accumulation 2: global steps of 8 rows, the last one 5 rows (uneven shares).
        var rows = TinyTraining.Rows(13);
        var single = Single(Options(batch: 4, accumulation: 2), rows);
        var ranks = Parallel(2, _ => Options(batch: 2, accumulation: 2), rows);
        Assert.Equal(4, single.Result.Steps);
        AssertClose(single, ranks[0], "2 ranks vs batch × 2");
        // Every rank holds bitwise the same weights and losses: the collective hands all of them the same sums.
        Assert.Equal(ranks[0].Result.StepLosses, ranks[1].Result.StepLosses);
        foreach (var (name, w) in ranks[0].Weights) Assert.Equal(w, ranks[1].Weights[name]);
    }

    [Fact]
    public void Three_ranks_with_a_rank_left_without_rows_in_the_last_step()
    {
        // 7 rows, batch 1, world 3, no accumulation: steps of 3, 3 and 1 rows; in the last, ranks 1 and 2 have nothing.
        var rows = TinyTraining.Rows(7);
        var single = Single(Options(batch: 3, accumulation: 1), rows);
        var ranks = Parallel(3, _ => Options(batch: 1, accumulation: 1), rows);
        AssertClose(single, ranks[0], "3 ranks vs batch × 3");
        AssertClose(single, ranks[2], "3 ranks vs batch × 3 (rank 2)");
    }

    [Fact]
    public void A_two_rank_checkpoint_resumes_in_one_process_with_the_same_effective_batch()
    {
        var rows = TinyTraining.Rows(13);
        string ckpt = Path.Combine(_dir, "ddp");
        var ranks = Parallel(2, rank => Options(batch: 2, accumulation: 2, ckpt, saveSteps: 2), rows);
        Assert.True(Directory.Exists(Path.Combine(ckpt, "checkpoint-2")));
        Assert.Equal(2, TrainerCheckpoint.LoadState(Path.Combine(ckpt, "checkpoint-2")).WorldSize);
        // One process, batch 2 × accumulation 4 = the same 8 rows per step, continues from the 2-rank checkpoint.
        var resumed = Single(Options(batch: 2, accumulation: 4), rows, Path.Combine(ckpt, "checkpoint-2"));
        Assert.Equal(2, resumed.Result.ResumedFromStep);
        // The whole run's losses: the first two restored from the checkpoint as rank 0 wrote them, the rest recomputed.
        Assert.Equal(ranks[0].Result.StepLosses.Take(2), resumed.Result.StepLosses.Take(2));
        for (int i = 0; i < resumed.Result.StepLosses.Count; i++)
            Assert.Equal(ranks[0].Result.StepLosses[i], resumed.Result.StepLosses[i], Tolerance);
        AssertClose(ranks[0], resumed, "2-rank checkpoint resumed by 1 process");

        var e = Assert.Throws<CheckpointResumeException>(() => Single(Options(batch: 2, accumulation: 2), rows, Path.Combine(ckpt, "checkpoint-2")));
        Assert.StartsWith($"cannot resume from {Path.Combine(ckpt, "checkpoint-2")}: ", e.Message);
        Assert.Contains("checkpoint was made with 8 rows per optimizer step", e.Message);
        Assert.Contains("this run has 4 (2 × 1 × 2)", e.Message);
    }

    [Fact]
    public void World_size_one_collective_is_the_plain_trainer_bit_for_bit()
    {
        var rows = TinyTraining.Rows(9);
        var plain = Single(Options(batch: 2, accumulation: 2), rows);
        var one = Parallel(1, _ => Options(batch: 2, accumulation: 2), rows)[0];
        Assert.Equal(plain.Result.StepLosses, one.Result.StepLosses);
        foreach (var (name, w) in plain.Weights) Assert.Equal(w, one.Weights[name]);
    }
}

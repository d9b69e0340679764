using System.Diagnostics;
using RaftPipeline.Modeling.Native;
using RaftPipeline.Training.Data;
using RaftPipeline.Training.Loss;
using RaftPipeline.Training.Model;
using RaftPipeline.Training.Optimizers;
using RaftPipeline.Training.Schedules;
using TorchSharp;
using static TorchSharp.torch;

namespace RaftPipeline.Training.Loop;

/// <summary>
/// The SFT loop, HF Trainer's semantics: an optimizer step per <c>gradient_accumulation_steps</c> micro-batches of
/// <c>batch_size</c> rows (the last group of an epoch may be shorter, as HF steps on it too); the loss of a step is
/// the token mean over all its micro-batches (num_items_in_batch); gradients are clipped by global norm, then the
/// optimizer steps with the schedule's lr for this step. Every step runs in its own dispose scope.
/// Knows nothing of YAML or consoles: settings come as <see cref="TrainerOptions"/>, reports go to callbacks.
/// </summary>
public sealed class Trainer
{
    readonly ITrainableCausalLm _model;
    readonly CompletionOnlyCollator _collator;
    readonly TrainerOptions _o;
    readonly IReadOnlyList<ITrainerCallback> _callbacks;
    readonly List<(string Name, Tensor Parameter)> _trainable;
    readonly Device _device;

    public Trainer(ITrainableCausalLm model, CompletionOnlyCollator collator, TrainerOptions options,
        IEnumerable<ITrainerCallback>? callbacks = null)
    {
        options.Validate();
        _model = model;
        _collator = collator;
        _o = options;
        _callbacks = callbacks?.ToList() ?? [];
        _trainable = model.NamedParameters().Where(p => p.Parameter.requires_grad).ToList();
        if (_trainable.Count == 0)
            throw new InvalidOperationException("the model has no parameter with requires_grad: nothing to train");
        _device = _trainable[0].Parameter.device;
    }

    public IReadOnlyList<(string Name, Tensor Parameter)> TrainableParameters => _trainable;

    /// <summary>Optimizer steps per epoch: ceil(micro-batches / accumulation), as HF counts them.</summary>
    public int StepsPerEpoch(int rows)
    {
        int microBatches = (rows + _o.BatchSize - 1) / _o.BatchSize;
        return Math.Max(1, (microBatches + _o.GradientAccumulationSteps - 1) / _o.GradientAccumulationSteps);
    }

    /// <summary>Trains on <paramref name="rows"/>; resumes exactly from <paramref name="resumeFrom"/> if given.</summary>
    public TrainingResult Train(IReadOnlyList<LabeledRow> rows, string? resumeFrom = null)
    {
        if (rows.Count == 0) throw new ArgumentException("no training rows", nameof(rows));
        int stepsPerEpoch = StepsPerEpoch(rows.Count);
        int totalSteps = _o.MaxSteps ?? stepsPerEpoch * _o.Epochs;
        var schedule = new LrSchedule(_o.Schedule, _o.LearningRate, totalSteps, LrSchedule.ResolveWarmupSteps(_o.Warmup, totalSteps));
        ITrainingOptimizer optimizer = _o.Optimizer == OptimizerKind.AdamW8bit
            ? new AdamW8bit(_trainable, _o.Adam)
            : new AdamW(_trainable, _o.Adam);

        var state = new TrainerState { TotalSteps = totalSteps, Seed = _o.Seed };
        torch.random.manual_seed(_o.Seed);
        string? lastCheckpoint = null;
        if (resumeFrom is not null)
        {
            state = TrainerCheckpoint.LoadState(resumeFrom);
            if (state.TotalSteps != totalSteps)
                throw new InvalidDataException($"{resumeFrom}: checkpoint was made for {state.TotalSteps} total steps, this run has {totalSteps}");
            TrainerCheckpoint.LoadTrainable(resumeFrom, _trainable);
            var saved = TrainerCheckpoint.LoadOptimizer(resumeFrom, _device);
            try { optimizer.LoadState(saved, state.GlobalStep); }
            finally { foreach (var t in saved.Values) t.Dispose(); }
            using (var rng = tensor(Convert.FromBase64String(state.CpuRngState), dtype: ScalarType.Byte))
                torch.random.set_rng_state(rng);
            lastCheckpoint = resumeFrom;
        }

        _model.SetTraining(true);
        var losses = new List<double>();
        var clock = Stopwatch.StartNew();
        while (state.GlobalStep < totalSteps)
        {
            int[] order = state.StepsDoneInEpoch > 0 && state.EpochRowOrder.Length == rows.Count
                ? state.EpochRowOrder
                : RowOrder(rows.Count, state.Epoch);
            state = state with { EpochRowOrder = order };
            int rowsPerStep = _o.BatchSize * _o.GradientAccumulationSteps;
            for (int s = state.StepsDoneInEpoch; s < stepsPerEpoch && state.GlobalStep < totalSteps; s++)
            {
                var stepRows = order.Skip(s * rowsPerStep).Take(rowsPerStep).Select(i => rows[i]).ToList();
                var (loss, gradNorm, tokens) = Step(stepRows, optimizer, schedule.LearningRateAt(state.GlobalStep), state, lastCheckpoint);
                losses.Add(loss);
                state = state with
                {
                    GlobalStep = state.GlobalStep + 1,
                    StepsDoneInEpoch = s + 1,
                    LossSinceLastLog = state.LossSinceLastLog + loss,
                    StepsSinceLastLog = state.StepsSinceLastLog + 1,
                    TokensSinceLastLog = state.TokensSinceLastLog + tokens,
                };
                double nextLr = schedule.LearningRateAt(state.GlobalStep);
                foreach (var c in _callbacks) c.OnStepEnd(new TrainingProgress(state.GlobalStep, totalSteps, loss, nextLr));
                if (state.GlobalStep % _o.LoggingSteps == 0 || state.GlobalStep == totalSteps)
                {
                    double seconds = Math.Max(1e-9, clock.Elapsed.TotalSeconds);
                    var entry = new TrainingLogEntry(state.GlobalStep, state.Epoch + (double)(s + 1) / stepsPerEpoch,
                        state.LossSinceLastLog / state.StepsSinceLastLog, nextLr, gradNorm,
                        state.TokensSinceLastLog / seconds, state.TokensSinceLastLog);
                    state.LogHistory.Add(entry);
                    foreach (var c in _callbacks) c.OnLog(entry);
                    state = state with { LossSinceLastLog = 0, StepsSinceLastLog = 0, TokensSinceLastLog = 0 };
                    clock.Restart();
                }
                if (_o.SaveSteps > 0 && state.GlobalStep % _o.SaveSteps == 0)
                {
                    lastCheckpoint = SaveCheckpoint(state, optimizer);
                    foreach (var c in _callbacks) c.OnCheckpointSaved(lastCheckpoint);
                }
            }
            if (state.GlobalStep < totalSteps)
                state = state with { Epoch = state.Epoch + 1, StepsDoneInEpoch = 0, EpochRowOrder = [] };
        }
        _model.SetTraining(false);
        return new TrainingResult(losses, state.LogHistory, state.GlobalStep, lastCheckpoint);
    }

    (double Loss, double GradNorm, long Tokens) Step(List<LabeledRow> stepRows, ITrainingOptimizer optimizer, double lr,
        TrainerState state, string? lastCheckpoint)
    {
        using var scope = NewDisposeScope();
        var microBatches = stepRows.Chunk(_o.BatchSize).ToList();
        long count = stepRows.Sum(r => (long)r.SupervisedTokens);   // num_items_in_batch over the whole step
        long tokens = stepRows.Sum(r => (long)r.InputIds.Length);
        double lossSum = 0;
        foreach (var mb in microBatches)
        {
            using var mbScope = NewDisposeScope();
            var batch = _collator.Collate(mb, _device);
            if (batch.SupervisedTokens == 0) continue; // nothing to learn here; it still counts for data order
            var hidden = _model.HiddenStates(batch.InputIds, batch.AttentionMask, batch.SegmentIds);
            var sum = CausalLmLoss.SupervisedSum(hidden, _model.OutputWeight, batch.Labels, _o.LossChunkRows);
            (sum / count).backward();
            BackwardTensors.ReleaseReturned();
            lossSum += sum.to(ScalarType.Float64).item<double>();
        }
        double loss = count > 0 ? lossSum / count : 0.0;
        if (!double.IsFinite(loss))
            throw Diverged(state, "the loss", loss, optimizer, lastCheckpoint);
        double gradNorm = GradientClipping.ClipByGlobalNorm(_trainable.Select(p => p.Parameter), _o.MaxGradNorm);
        if (!double.IsFinite(gradNorm))
            throw Diverged(state, "the gradient norm", gradNorm, optimizer, lastCheckpoint);
        optimizer.Step(lr);
        foreach (var (_, p) in _trainable) p.grad = null;
        return (loss, gradNorm, tokens);
    }

    TrainingDivergedException Diverged(TrainerState state, string what, double value, ITrainingOptimizer optimizer, string? lastCheckpoint)
    {
        foreach (var (_, p) in _trainable) p.grad = null;
        return new TrainingDivergedException(state.GlobalStep, what, value, lastCheckpoint);
    }

    string SaveCheckpoint(TrainerState state, ITrainingOptimizer optimizer)
    {
        using var rng = torch.random.get_rng_state();
        var withRng = state with { CpuRngState = Convert.ToBase64String(rng.data<byte>().ToArray()) };
        return TrainerCheckpoint.Save(_o.OutputDir!, withRng, _trainable, optimizer.StateTensors());
    }

    /// <summary>The epoch's row order: a seeded permutation per epoch (a pure function of seed and epoch), or as given.</summary>
    int[] RowOrder(int rows, int epoch)
    {
        if (!_o.Shuffle) return Enumerable.Range(0, rows).ToArray();
        var gen = new Generator((ulong)(_o.Seed + epoch));
        using var perm = randperm(rows, generator: gen);
        return perm.data<long>().Select(v => (int)v).ToArray();
    }
}

/// <summary>Per-step losses, the log entries, the steps done and the last checkpoint written.</summary>
public sealed record TrainingResult(IReadOnlyList<double> StepLosses, IReadOnlyList<TrainingLogEntry> Log, int Steps, string? LastCheckpoint);

using System.Diagnostics;
using RaftPipeline.Modeling.Native;
using RaftPipeline.Training.Data;
using RaftPipeline.Training.Distributed;
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
/// <para>
/// Data parallel (a <see cref="ICollective"/> over W ranks): every rank computes the same epoch order and the same
/// global step rows (batch × W × accumulation of them) and runs its share (<see cref="StepSharding"/>) as micro-batches
/// of <c>batch_size</c>. The loss is normalised by the GLOBAL step's supervised-token count (every rank counts it from
/// the shared rows, no communication), gradients are summed over ranks before clipping, and the step's loss is summed
/// too: the update is exactly the one a single process makes with a W-times larger batch, up to the order of the
/// gradient sums. Only rank 0 writes checkpoints; callbacks run on every rank (the caller gives rank > 0 none that
/// write). Without a collective this is the single-process loop, unchanged; a collective of one rank only adds
/// identity reductions (it exercises the NCCL path on one GPU).
/// </para>
/// </summary>
public sealed class Trainer
{
    readonly ITrainableCausalLm _model;
    readonly CompletionOnlyCollator _collator;
    readonly TrainerOptions _o;
    readonly IReadOnlyList<ITrainerCallback> _callbacks;
    readonly List<(string Name, Tensor Parameter)> _trainable;
    readonly Device _device;
    readonly ICollective? _collective;
    readonly DistributedWorld _world;

    public Trainer(ITrainableCausalLm model, CompletionOnlyCollator collator, TrainerOptions options,
        IEnumerable<ITrainerCallback>? callbacks = null, ICollective? collective = null)
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
        _collective = collective;
        _world = collective?.World ?? DistributedWorld.Single;
    }

    /// <summary>Rows per optimizer step over all ranks: per-device batch × world size × accumulation.</summary>
    public int EffectiveBatchSize => _o.BatchSize * _world.WorldSize * _o.GradientAccumulationSteps;

    public IReadOnlyList<(string Name, Tensor Parameter)> TrainableParameters => _trainable;

    /// <summary>
    /// Optimizer steps per epoch: ceil(micro-batches / accumulation), as HF counts them; a micro-batch spans every
    /// rank (batch × world size rows), as for one process with that batch.
    /// </summary>
    public int StepsPerEpoch(int rows)
    {
        int globalBatch = _o.BatchSize * _world.WorldSize;
        int microBatches = (rows + globalBatch - 1) / globalBatch;
        return Math.Max(1, (microBatches + _o.GradientAccumulationSteps - 1) / _o.GradientAccumulationSteps);
    }

    /// <summary>
    /// Trains on <paramref name="rows"/>; resumes exactly from <paramref name="resumeFrom"/> if given (the result then
    /// covers the whole run: the per-step losses and log rows before the checkpoint come from it).
    /// </summary>
    /// <exception cref="CheckpointResumeException"><paramref name="resumeFrom"/> cannot be resumed from; nothing was trained.</exception>
    /// <param name="cancellationToken">Checked at every step boundary but the last: when set, the trainer writes a
    /// checkpoint there (if it writes checkpoints at all and did not just write one), then throws
    /// <see cref="OperationCanceledException"/>; a resume from that checkpoint continues as if nothing happened.</param>
    public TrainingResult Train(IReadOnlyList<LabeledRow> rows, string? resumeFrom = null, CancellationToken cancellationToken = default)
    {
        if (rows.Count == 0) throw new ArgumentException("no training rows", nameof(rows));
        int stepsPerEpoch = StepsPerEpoch(rows.Count);
        int totalSteps = _o.MaxSteps ?? stepsPerEpoch * _o.Epochs;
        var schedule = new LrSchedule(_o.Schedule, _o.LearningRate, totalSteps, LrSchedule.ResolveWarmupSteps(_o.Warmup, totalSteps));
        ITrainingOptimizer optimizer = _o.Optimizer == OptimizerKind.AdamW8bit
            ? new AdamW8bit(_trainable, _o.Adam)
            : new AdamW(_trainable, _o.Adam);

        var state = new TrainerState { TotalSteps = totalSteps, Seed = _o.Seed, RowsPerStep = EffectiveBatchSize, WorldSize = _world.WorldSize };
        torch.random.manual_seed(_o.Seed);
        string? lastCheckpoint = null;
        if (resumeFrom is not null)
        try
        {
            state = TrainerCheckpoint.LoadState(resumeFrom);
            if (state.RowsPerStep != 0 && state.RowsPerStep != EffectiveBatchSize)
                throw new InvalidDataException(
                    $"{resumeFrom}: checkpoint was made with {state.RowsPerStep} rows per optimizer step (per-device batch × world size × accumulation; " +
                    $"world size {state.WorldSize}), this run has {EffectiveBatchSize} ({_o.BatchSize} × {_world.WorldSize} × {_o.GradientAccumulationSteps}): " +
                    "resume with the same effective batch, for instance half the world size and twice the accumulation");
            if (state.TotalSteps != totalSteps)
                throw new InvalidDataException($"{resumeFrom}: checkpoint was made for {state.TotalSteps} total steps, this run has {totalSteps}");
            state = state with { RowsPerStep = EffectiveBatchSize, WorldSize = _world.WorldSize };
            TrainerCheckpoint.LoadTrainable(resumeFrom, _trainable);
            var saved = TrainerCheckpoint.LoadOptimizer(resumeFrom, _device);
            try { optimizer.LoadState(saved, state.GlobalStep); }
            finally { foreach (var t in saved.Values) t.Dispose(); }
            using (var rng = tensor(Convert.FromBase64String(state.CpuRngState), dtype: ScalarType.Byte))
                torch.random.set_rng_state(rng);
            lastCheckpoint = resumeFrom;
        }
        catch (Exception e) when (e is InvalidDataException or IOException or System.Text.Json.JsonException or FormatException)
        {
            throw new CheckpointResumeException(resumeFrom, e);
        }
        int resumedFromStep = state.GlobalStep;

        _model.SetTraining(true);
        var losses = new List<double>(state.StepLosses);
        var clock = Stopwatch.StartNew();
        while (state.GlobalStep < totalSteps)
        {
            int[] order = state.StepsDoneInEpoch > 0 && state.EpochRowOrder.Length == rows.Count
                ? state.EpochRowOrder
                : RowOrder(rows.Count, state.Epoch);
            state = state with { EpochRowOrder = order };
            int rowsPerStep = EffectiveBatchSize;
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
                // Not after the last step: the caller saves the finished adapter next, and a resume always has a step
                // left to run (so what is measured at the end, an eval loss, is measured again).
                bool due = _o.SaveSteps > 0 && state.GlobalStep % _o.SaveSteps == 0 && state.GlobalStep < totalSteps;
                bool stopping = cancellationToken.IsCancellationRequested && state.GlobalStep < totalSteps;
                if (due || (stopping && _o.SaveSteps > 0))
                    lastCheckpoint = Checkpoint(state with { StepLosses = losses.ToList() }, optimizer);
                if (stopping)
                    throw new OperationCanceledException(
                        $"training cancelled after optimizer step {state.GlobalStep} of {totalSteps}" +
                        (lastCheckpoint is null ? "" : $"; the checkpoint {lastCheckpoint} resumes it"), cancellationToken);
            }
            if (state.GlobalStep < totalSteps)
                state = state with { Epoch = state.Epoch + 1, StepsDoneInEpoch = 0, EpochRowOrder = [] };
        }
        _model.SetTraining(false);
        return new TrainingResult(losses, state.LogHistory, state.GlobalStep, lastCheckpoint, resumedFromStep);
    }

    (double Loss, double GradNorm, long Tokens) Step(List<LabeledRow> stepRows, ITrainingOptimizer optimizer, double lr,
        TrainerState state, string? lastCheckpoint)
    {
        using var scope = NewDisposeScope();
        var microBatches = StepSharding.Share(stepRows, _world.Rank, _world.WorldSize).Chunk(_o.BatchSize).ToList();
        long count = stepRows.Sum(r => (long)r.SupervisedTokens);   // num_items_in_batch over the whole (global) step
        long tokens = stepRows.Sum(r => (long)r.InputIds.Length);
        double lossSum = 0;
        foreach (var mb in microBatches)
        {
            using var mbScope = NewDisposeScope();
            var batch = _collator.Collate(mb, _device);
            if (batch.SupervisedTokens == 0) continue; // nothing to learn here; it still counts for data order
            // No device→host read until the loss below: the host queues forward and backward while the GPU runs.
            var hidden = _model.HiddenStates(batch.InputIds, batch.MaskIfPadded, batch.SegmentIds);
            var sum = CausalLmLoss.SupervisedSum(hidden, _model.Head, batch, _o.LossChunkRows);
            (sum / count).backward();
            BackwardTensors.ReleaseReturned();
            _model.AfterBackward();
            lossSum += sum.to(ScalarType.Float64).item<double>();
        }
        if (_collective is not null)
        {
            // Before any check, on every rank, so all ranks see the same sums and take the same branch below.
            GradientBuckets.AllReduceSum(_collective, _trainable.Select(p => p.Parameter).ToList());
            var summed = tensor(new[] { lossSum }, dtype: ScalarType.Float64, device: _device);
            _collective.AllReduceSum([summed]);
            lossSum = summed.cpu().item<double>();
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

    /// <summary>
    /// Every rank holds the same weights and optimizer state: rank 0 writes them for all (the others return the path
    /// it writes). Callbacks add their files before the rename; then the oldest beyond save_total_limit go.
    /// </summary>
    string Checkpoint(TrainerState state, ITrainingOptimizer optimizer)
    {
        string path = Path.Combine(_o.OutputDir!, $"{TrainerCheckpoint.FolderPrefix}{state.GlobalStep}");
        if (_world.IsRankZero)
        {
            using var rng = torch.random.get_rng_state();
            var withRng = state with { CpuRngState = Convert.ToBase64String(rng.data<byte>().ToArray()) };
            path = TrainerCheckpoint.Save(_o.OutputDir!, withRng, _trainable, optimizer.StateTensors(),
                dir => { foreach (var c in _callbacks) c.OnCheckpointWriting(dir); });
            if (_o.SaveTotalLimit is int keep) TrainerCheckpoint.Prune(_o.OutputDir!, keep);
        }
        foreach (var c in _callbacks) c.OnCheckpointSaved(path);
        return path;
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

/// <summary>
/// Every step's loss and the log entries of the whole run (a resumed run's earlier ones from its checkpoint), the
/// steps done, the last checkpoint written and the step the run resumed from (0: it started at the beginning).
/// </summary>
public sealed record TrainingResult(IReadOnlyList<double> StepLosses, IReadOnlyList<TrainingLogEntry> Log, int Steps,
    string? LastCheckpoint, int ResumedFromStep = 0);

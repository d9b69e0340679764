using System.Diagnostics;
using System.Text.Json.Nodes;
using RaftPipeline.Core.Engine;
using RaftPipeline.Core.Spec.Stages;
using RaftPipeline.Modeling.Adapters;
using RaftPipeline.Modeling.Decoder;
using RaftPipeline.Modeling.Native.Cuda;
using RaftPipeline.Modeling.Lora;
using RaftPipeline.Stages.Format;
using RaftPipeline.Stages.ModelCards;
using RaftPipeline.Text.Templates;
using RaftPipeline.Text.Tokenization;
using RaftPipeline.Training.Checkpointing;
using RaftPipeline.Training.Data;
using RaftPipeline.Training.Distributed;
using RaftPipeline.Training.Loop;
using RaftPipeline.Training.Model;

namespace RaftPipeline.Stages.Train;

/// <summary>
/// The <c>train</c> stage: the notebook's <c>SFTTrainer(...).train()</c>. Loads the (NF4 or 16-bit) base frozen,
/// attaches the lora artifact's adapter as the trainable part, tokenizes the format artifact's texts with the
/// model's tokenizer, labels them completion-only and runs <see cref="Trainer"/> with <see cref="TrainParameters"/>
/// mapped by <see cref="TrainSettings"/>. Writes the trained adapter (peft layout) with a README card,
/// metrics.jsonl (train rows, and eval_loss rows when eval_data is given: before training, at every log, at the end),
/// train_summary.json and data_files.json; metrics.jsonl and train_summary.json also go to the report folder.
/// <para>
/// Checkpoints and resume: every save_steps optimizer steps, and at the step boundary where a cancelled run (Ctrl-C,
/// SIGTERM) stops, the trainer writes <c>checkpoint-N/</c> (adapter, optimizer state, trainer state with schedule
/// position, data order and RNG, plus metrics.jsonl so far) into the key's checkpoint area
/// (<see cref="StageContext.CheckpointDirectory"/>), which survives a failed or killed attempt. A rerun of the same key
/// resumes from the newest complete one and ends with the same per-step losses and adapter bytes (on CPU) as a run that
/// was never stopped; the log and the stage's metrics say <c>resumed_from_step</c>. save_total_limit keeps the newest N.
/// The engine removes the area once the artifact is published.
/// </para>
/// <para>
/// Data parallel (<c>world_size</c> &gt; 1, set by <c>raft run --gpus N</c> or a launcher): the process must belong to a
/// job of that size (<see cref="DistributedJob.Current"/>). Rank 0 announces the stage, the other ranks (running the
/// same spec in a private scratch cache) join it, each trains its share of every step, and gradients are summed by the
/// job's collective (NCCL on CUDA, TCP on CPU). Eval loss is measured on rank 0 only. A failure on any rank stops every
/// rank with that rank's message. Only rank 0 writes checkpoints (into the shared cache); on resume it tells the
/// other ranks which one, and they read it from there (the ranks of one machine, or a file system they share).
/// </para>
/// </summary>
public sealed class TrainStageExecutor : IStageExecutor
{
    public const string ModelSlot = "model";
    public const string AdapterSlot = "adapter";
    public const string DataSlot = "data";
    public const string EvalDataSlot = "eval_data";

    public string Kind => "train";

    /// <summary>1: trainer with completion-only labels, eval loss on test_texts.jsonl, no checkpoints in the artifact. 2: the adapter card from ModelCards. 3: train_summary.json gives per-device batch, world size and effective batch. 4: save_steps checkpoints and resume; save_steps and save_total_limit left out of the key and the summary's hyperparameters.</summary>
    public int Version => 4;

    public Task<StageOutcome> RunAsync(StageContext context, CancellationToken cancellationToken)
    {
        var parameters = context.Parameters<TrainParameters>();
        var job = JoinJob(context, parameters.WorldSize ?? 1);
        if (job is null) return Task.FromResult(Train(context, parameters, null, cancellationToken));
        try
        {
            return Task.FromResult(Train(context, parameters, job, cancellationToken));
        }
        catch (Exception e) when (e is not RemoteRankFailedException)
        {
            // Rethrown unchanged; the other ranks hear of it first, so they stop instead of waiting in a collective.
            job.Rendezvous.ReportFailure($"stage '{context.Stage.Name}' on rank {job.World.Rank}: {e.Message}");
            throw;
        }
    }

    /// <summary>
    /// The job this stage trains in, or null alone. The world size is a parameter (it sets the effective batch, so it
    /// is part of the artifact's key); the process must really be one of that many.
    /// </summary>
    static DistributedJob? JoinJob(StageContext context, int worldSize)
    {
        var job = DistributedJob.Current;
        int actual = job?.World.WorldSize ?? 1;
        if (worldSize != actual)
            throw new InvalidOperationException(
                $"stage '{context.Stage.Name}': world_size is {worldSize} but this process is {(actual == 1 ? "not part of a data-parallel job" : $"one of {actual} processes")}: " +
                $"run with `raft run --gpus {worldSize}` or under a launcher (torchrun, srun) with WORLD_SIZE={worldSize}, or leave world_size out");
        if (job is null) return null;
        if (job.World.IsRankZero) job.Announce(context.Stage.Name);
        else if (!job.AwaitAnnouncement(context.Stage.Name))
            throw new OperationCanceledException(
                $"rank 0 finished without running train stage '{context.Stage.Name}' (it reused its cached artifact): nothing left for rank {job.World.Rank} to do");
        return job;
    }

    /// <summary>No response_template in the spec: the tokens the model's chat template opens an answer with.</summary>
    static (int[] Ids, string Text) AnswerOpenerOf(string modelDir, HuggingFaceTokenizer tokenizer)
    {
        try
        {
            return AnswerOpener.Find(ChatTemplate.FromModelFolder(modelDir), tokenizer);
        }
        catch (ChatInputException e)
        {
            throw new InvalidDataException($"{e.Message}; without a chat template, set the train stage's response_template", e);
        }
    }

    StageOutcome Train(StageContext context, TrainParameters parameters, DistributedJob? job, CancellationToken cancellationToken)
    {
        string modelDir = context.Input(ModelSlot);
        string adapterDir = context.Input(AdapterSlot);
        string dataDir = context.Input(DataSlot);
        string? evalDir = context.Inputs.TryGetValue(EvalDataSlot, out var evalPaths) && evalPaths.Count == 1 ? evalPaths[0] : null;

        // Data first: a bad data folder fails before the model is loaded.
        var texts = FormatArtifact.ReadTexts(dataDir);
        if (texts.Count == 0)
            throw new InvalidDataException($"{Path.Combine(dataDir, FormatArtifact.TextsFile)}: no texts: the training set is empty");
        var evalTexts = evalDir is null ? null : FormatArtifact.ReadTestTexts(evalDir);

        var tokenizer = HuggingFaceTokenizer.FromDirectory(modelDir);
        int padId = tokenizer.PadTokenId ?? tokenizer.EosTokenId ?? 0; // masked by position: the id is never learned
        var (templateIds, templateText) = parameters.ResponseTemplate is { } given
            ? (TrainingRows.ResponseTemplateIds(tokenizer, given), given)
            : AnswerOpenerOf(modelDir, tokenizer);
        if (parameters.ResponseTemplate is null) context.Progress.Log($"response template (the chat template's answer opener): '{templateText}'");
        var collator = new CompletionOnlyCollator(new CollatorOptions(templateIds, parameters.MaxSeqLength, padId));
        var rows = TrainingRows.Label(texts, tokenizer, collator, cancellationToken);
        var report = CollationReport.Of(rows);
        context.Progress.Log($"training data: {report}");
        if (report.SupervisedTokens == 0)
            throw new InvalidDataException(
                $"{Path.Combine(dataDir, FormatArtifact.TextsFile)}: no row has an answer to learn: response_template '{templateText}' " +
                $"was found in none of the {rows.Count} texts within max_seq_length {parameters.MaxSeqLength} ({report})");
        var evalRows = evalTexts is null ? null : TrainingRows.Label(evalTexts, tokenizer, collator, cancellationToken);
        if (evalRows is not null) context.Progress.Log($"eval data: {CollationReport.Of(evalRows)}");

        if (parameters.Packing)
        {
            // SFTTrainer's packing=True: short rows share a sequence, each attending only to itself (no leaks).
            // Eval rows stay unpacked: without leaks the held-out loss is the same either way.
            int labelled = rows.Count;
            rows = RowPacker.Pack(rows, parameters.MaxSeqLength);
            context.Progress.Log($"packing: {labelled} rows into {rows.Count} sequences of at most {parameters.MaxSeqLength} tokens");
        }
        var settings = TrainSettings.Resolve(parameters, rows.Count, context.Seed, context.Device, context.CheckpointDirectory);
        context.Progress.Log($"{rows.Count} {(parameters.Packing ? "packed sequences" : "rows")}, {settings.StepsPerEpoch} steps per epoch, {settings.TotalSteps} steps " +
                             $"({settings.WarmupSteps} warmup), seed {settings.Seed}, gradient checkpointing {(settings.CheckpointingByMemory ? "auto (by free GPU memory)" : settings.GradientCheckpointing ? "on" : "off")}, " +
                             $"effective batch {settings.EffectiveBatchSize} ({parameters.BatchSize} per device × world size {settings.WorldSize} × accumulation {parameters.GradientAccumulationSteps})");

        cancellationToken.ThrowIfCancellationRequested();
        var clock = Stopwatch.StartNew();
        using var loaded = TrainModelLoader.Load(modelDir, adapterDir, context.Device);
        var trainable = TrainableParameters.Count(loaded.Model);
        context.Progress.Log($"{(loaded.Quantized ? "NF4" : "16-bit")} base {Path.GetFileName(modelDir.TrimEnd('/'))}: {trainable}");

        int? recomputedLayers = settings.CheckpointingByMemory ? PlanRecompute(loaded.Model, rows, parameters, context) : null;
        using var model = new DecoderTrainingModel(loaded.Model, recomputedLayers is null ? settings.GradientCheckpointing : recomputedLayers > 0,
            recomputedLayers);
        if (model.UsesLoraComputeCopies)
            context.Progress.Log("LoRA compute copies: bf16 copies of the adapters, q|k|v and gate|up as stacked groups (docs/training.md)");
        var device = loaded.Model.Device;
        var metrics = new TrainMetricsFile(Path.Combine(context.OutputDirectory, TrainArtifact.MetricsFile));
        var callbacks = new List<ITrainerCallback> { metrics };
        EvalLossCallback? eval = null;
        EvalLoss.Result? evalBefore = null;
        bool rankZero = job is null || job.World.IsRankZero;
        if (evalRows is not null && rankZero) // the eval loss is the same on every rank: rank 0 measures it alone
        {
            eval = new EvalLossCallback(model, collator, evalRows, parameters.BatchSize, device, metrics, context.Progress);
            evalBefore = eval.Evaluate(0, 0, training: false);
            callbacks.Add(eval);
        }
        callbacks.Add(new StageProgressCallback(context.Progress));

        var collective = job?.CollectiveFor(device);
        if (collective is NcclCollective nccl && job!.World.IsRankZero)
            context.Progress.Log($"NCCL {nccl.LibraryVersion} from {nccl.LibraryPath}, {job.World.WorldSize} ranks");
        var trainer = new Trainer(model, collator, settings.Trainer, callbacks, collective);
        string? resumeFrom = ResumePoint(context, job);
        if (resumeFrom is not null)
        {
            context.Progress.Log($"resumed from step {TrainerCheckpoint.StepOf(resumeFrom)} of {settings.TotalSteps} ({resumeFrom})");
            metrics.RestoreFrom(resumeFrom);
        }
        TrainingResult result;
        try
        {
            result = trainer.Train(rows, resumeFrom, cancellationToken);
        }
        catch (OperationCanceledException e) when (cancellationToken.IsCancellationRequested)
        {
            context.Progress.Log(e.Message); // where it stopped and which checkpoint resumes it
            throw;
        }
        catch (CheckpointResumeException e)
        {
            throw new InvalidDataException($"{e.Message}; `raft run --no-resume` starts this stage over", e);
        }
        double runtime = clock.Elapsed.TotalSeconds;

        // The trainer's last log is at the last step, so the eval callback has already measured the final adapter.
        double? evalAfter = eval?.History[^1].Loss;
        AdapterStore.Save(loaded.Model, loaded.Adapter, context.OutputDirectory);

        var hyperparameters = Core.Engine.CanonicalParameters.ToJson(parameters);
        int recomputed = recomputedLayers ?? (settings.GradientCheckpointing ? loaded.Model.Config.NumHiddenLayers : 0);
        var summary = Summary(result, settings, rows, evalBefore?.Loss, evalAfter, runtime, trainable, hyperparameters, loaded.Quantized, recomputed);
        TrainArtifact.WriteJson(Path.Combine(context.OutputDirectory, TrainArtifact.SummaryFile), summary);
        TrainArtifact.CopyDataFiles(dataDir, context.OutputDirectory);
        // The adapter's card, from the files just written (adapter_config, train_summary, data_files); the merge stage
        // writes it again with the evaluation table once eval has run.
        AdapterCard.Write(context.OutputDirectory, baseModelDir: modelDir);
        foreach (var name in new[] { TrainArtifact.MetricsFile, TrainArtifact.SummaryFile })
            File.Copy(Path.Combine(context.OutputDirectory, name), Path.Combine(context.ReportDirectory, name), overwrite: true);

        var outcome = new JsonObject();
        foreach (var key in new[] { "global_steps", "train_loss", "final_loss", "eval_loss_before", "eval_loss_after", "runtime_seconds", "tokens_seen", "trainable_parameters" })
            outcome[key] = summary[key]?.DeepClone();
        if (result.ResumedFromStep > 0) outcome["resumed_from_step"] = result.ResumedFromStep;
        return new StageOutcome(outcome);
    }

    /// <summary>
    /// The checkpoint to resume from: the newest complete one in the key's checkpoint area, or null. In a data-parallel
    /// job rank 0 (which owns the cache) picks it and every rank resumes from that one.
    /// </summary>
    static string? ResumePoint(StageContext context, DistributedJob? job)
    {
        string? newest = context.CheckpointDirectory is { } area ? TrainerCheckpoint.Newest(area) : null;
        if (job is null) return newest;
        var chosen = System.Text.Encoding.UTF8.GetString(
            job.Rendezvous.Broadcast(job.World.IsRankZero ? System.Text.Encoding.UTF8.GetBytes(newest ?? "") : null));
        return chosen.Length == 0 ? null : chosen;
    }

    static JsonObject Summary(TrainingResult result, TrainSettings settings, IReadOnlyList<LabeledRow> rows, double? evalBefore,
        double? evalAfter, double runtime, TrainableParameters trainable, JsonObject hyperparameters, bool quantized, int recomputedLayers)
    {
        var report = CollationReport.Of(rows);
        double epochs = result.Log.Count > 0 ? result.Log[^1].Epoch : 0;
        return new JsonObject
        {
            ["global_steps"] = result.Steps,
            ["epochs"] = epochs,
            ["steps_per_epoch"] = settings.StepsPerEpoch,
            ["warmup_steps"] = settings.WarmupSteps,
            ["per_device_batch_size"] = settings.Trainer.BatchSize,
            ["world_size"] = settings.WorldSize,
            ["gradient_accumulation_steps"] = settings.Trainer.GradientAccumulationSteps,
            ["effective_batch_size"] = settings.EffectiveBatchSize,
            // HF's train_loss: the mean of every step's loss; final_loss: the last log row's (mean since the log before).
            ["train_loss"] = result.StepLosses.Average(),
            ["first_loss"] = result.StepLosses[0],
            ["final_loss"] = result.Log[^1].Loss,
            ["eval_loss_before"] = evalBefore is double b && double.IsFinite(b) ? b : null,
            ["eval_loss_after"] = evalAfter is double a && double.IsFinite(a) ? a : null,
            ["runtime_seconds"] = runtime,
            ["tokens_seen"] = result.Log.Sum(e => e.Tokens),
            ["trainable_parameters"] = trainable.Trainable,
            ["all_parameters"] = trainable.All,
            ["quantized_base"] = quantized,
            ["seed"] = settings.Seed,
            ["gradient_checkpointing"] = recomputedLayers > 0,
            ["recomputed_layers"] = recomputedLayers,
            ["rows"] = report.Rows,
            ["rows_truncated"] = report.Truncated,
            ["rows_answer_cut_away"] = report.AnswerCutAway,
            ["rows_template_missing"] = report.TemplateMissing,
            ["supervised_tokens_per_epoch"] = report.SupervisedTokens,
            ["hyperparameters"] = hyperparameters.DeepClone(),
        };
    }

    /// <summary>
    /// gradient_checkpointing: auto on CUDA: recompute only as many layers as the free device memory (read once the
    /// model is loaded) requires for the longest micro-batch (<see cref="CheckpointPlanner"/>); logged, and kept in
    /// train_summary.json.
    /// </summary>
    static int PlanRecompute(CausalLM model, IReadOnlyList<LabeledRow> rows, TrainParameters parameters, StageContext context)
    {
        int ordinal = Math.Max(0, model.Device.index);
        long free = CudaMemory.FreeBytes(ordinal);
        long longest = rows.Count == 0 ? 0 : rows.Max(r => (long)r.InputIds.Length);
        long tokens = longest * parameters.BatchSize;
        int layers = CheckpointPlanner.LayersToRecompute(model.Config, tokens, free);
        long perLayer = CheckpointPlanner.ActivationBytesPerTokenPerLayer(model.Config) * tokens;
        context.Progress.Log($"gradient checkpointing auto: about {perLayer / 1048576.0:F0} MiB of activations per layer for " +
                             $"{tokens} tokens per micro-batch, {free / 1073741824.0:F1} GiB free on the GPU: recomputing " +
                             $"{layers} of {model.Config.NumHiddenLayers} layers");
        return layers;
    }
}

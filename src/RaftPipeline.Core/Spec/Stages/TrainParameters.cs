using System.ComponentModel;
using System.ComponentModel.DataAnnotations;

namespace RaftPipeline.Core.Spec.Stages;

/// <summary>
/// Parameters of a <c>train</c> stage, named and defaulted as Hugging Face's TrainingArguments/SFTConfig, except
/// where the seed recipe (the rude RAG notebook) sets a value: there its value is the default.
/// </summary>
[Description("Supervised fine-tuning of the adapter with the loss on the answer only (completion-only).")]
public sealed record TrainParameters : StageParameters
{
    [Description("Passes over the training set; ignored when max_steps is set.")]
    [Range(0.0, 10_000.0, MinimumIsExclusive = true)]
    public double Epochs { get; init; } = 1;

    [Description("Total optimizer steps; when set, overrides epochs.")]
    [Range(1, int.MaxValue)]
    public int? MaxSteps { get; init; }

    [Description("Rows per device batch.")]
    [Range(1, 65_536)]
    public int BatchSize { get; init; } = 2;

    [Description("Batches whose gradients are summed before each optimizer step.")]
    [Range(1, 65_536)]
    public int GradientAccumulationSteps { get; init; } = 1;

    [Description("Peak learning rate (after warmup).")]
    [Range(0.0, 1.0, MinimumIsExclusive = true)]
    public double LearningRate { get; init; } = 1e-4;

    [Description("Learning-rate schedule after warmup, as transformers computes it.")]
    public LrScheduler LrScheduler { get; init; } = LrScheduler.Cosine;

    [Description("Fraction of the total steps spent warming up linearly; warmup steps = ceil(ratio × total).")]
    [Range(0.0, 1.0)]
    public double WarmupRatio { get; init; } = 0.03;

    [Description("Optimizer: AdamW, or AdamW with 8-bit blockwise-quantized states (bitsandbytes' algorithm).")]
    public OptimizerKind Optimizer { get; init; } = OptimizerKind.Adamw8bit;

    [Description("Decoupled weight decay of AdamW.")]
    [Range(0.0, 1.0)]
    public double WeightDecay { get; init; }

    [Description("AdamW beta1.")]
    [Range(0.0, 1.0, MaximumIsExclusive = true)]
    public double AdamBeta1 { get; init; } = 0.9;

    [Description("AdamW beta2.")]
    [Range(0.0, 1.0, MaximumIsExclusive = true)]
    public double AdamBeta2 { get; init; } = 0.999;

    [Description("AdamW epsilon.")]
    [Range(0.0, 1.0, MinimumIsExclusive = true)]
    public double AdamEpsilon { get; init; } = 1e-8;

    [Description("Clip gradients to this global L2 norm; 0 disables clipping.")]
    [Range(0.0, double.MaxValue)]
    public double MaxGradNorm { get; init; } = 1.0;

    [Description("Log loss (averaged since the last log), learning rate, gradient norm and tokens/s every N optimizer steps.")]
    [Range(1, int.MaxValue)]
    public int LoggingSteps { get; init; } = 25;

    [Description("Write a resumable checkpoint every N optimizer steps (and where Ctrl-C or SIGTERM stops training) into the cache's checkpoints/<stage key>/; a rerun of a failed, cancelled or killed stage resumes from the newest (`raft run --no-resume` starts over). Not part of the stage's key.")]
    [Range(1, int.MaxValue)]
    [NotInKey]
    public int SaveSteps { get; init; } = 500;

    [Description("Keep only the newest N checkpoints of the stage (older ones are deleted as new ones are written); absent: keep all until the stage publishes its artifact. Not part of the stage's key.")]
    [Range(1, int.MaxValue)]
    [NotInKey]
    public int? SaveTotalLimit { get; init; }

    [Description("Truncate tokenized rows to this many tokens.")]
    [Range(1, 1_048_576)]
    public int MaxSeqLength { get; init; } = 1000;

    [Description("Text that opens the answer; labels up to and including it are masked, so the loss covers the answer only. Absent: what the model's chat template opens an answer with (its generation prompt without trailing whitespace: <|im_start|>assistant for Qwen, <|start_header_id|>assistant<|end_header_id|> for Llama 3, <start_of_turn>model for Gemma, <|assistant|> for Phi-3, [/INST] for Mistral).")]
    [MinLength(1)]
    public string? ResponseTemplate { get; init; }

    [Description("Recompute decoder layers' activations in the backward pass to save memory; auto: off on CPU, on CUDA as few layers as the free GPU memory requires.")]
    public GradientCheckpointing GradientCheckpointing { get; init; } = GradientCheckpointing.Auto;

    [Description("Pack several short rows into one sequence (without attention across rows).")]
    public bool Packing { get; init; }

    [Description("Seed of data order, dropout and adapter initialization; when absent, derived from the pipeline seed.")]
    public long? Seed { get; init; }

    [Description("Data-parallel processes (GPUs) that train together; effective batch = batch_size × world_size × gradient_accumulation_steps. Set by `raft run --gpus N` or the launcher (torchrun, Slurm); absent: 1.")]
    [Range(1, 65_536)]
    public int? WorldSize { get; init; }
}

/// <summary>Learning-rate schedules (transformers' get_scheduler names).</summary>
public enum LrScheduler { Cosine, Linear, Constant }

/// <summary>Optimizers of the train stage.</summary>
public enum OptimizerKind
{
    Adamw,
    [SpecName("adamw_8bit")] Adamw8bit,
}

/// <summary>Gradient checkpointing switch; auto turns it on where memory is the constraint (CUDA).</summary>
public enum GradientCheckpointing
{
    [SpecName("true")] On,
    [SpecName("false")] Off,
    Auto,
}

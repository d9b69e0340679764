using System.Text.Json.Nodes;

namespace RaftPipeline.Stages.Report;

/// <summary>The kind-specific part of a stage's report.</summary>
public abstract record StageSection;

/// <summary>
/// analyze: the console table (<c>statistics.txt</c>), the statistics as the lock's metrics record them, and the
/// histogram PNG's bytes (embedded in the HTML as a data URI).
/// </summary>
/// <param name="HistogramPath">Where the histogram was read from, relative to the run folder when inside it.</param>
public sealed record AnalyzeSection(string? StatisticsTable, JsonObject? Statistics, byte[]? HistogramPng, string? HistogramPath) : StageSection;

/// <summary>train: the rows of <c>metrics.jsonl</c> and <c>train_summary.json</c>.</summary>
public sealed record TrainSection(IReadOnlyList<TrainLogRow> Rows, JsonObject? Summary) : StageSection;

/// <summary>One line of <c>metrics.jsonl</c>: a training log row (loss, learning_rate) or an evaluation row (eval_loss).</summary>
public sealed record TrainLogRow(int Step, double? Epoch, double? Loss, double? LearningRate, double? EvalLoss, double? GradNorm);

/// <summary>eval: <c>eval.json</c>'s counts and, per model (base, tuned), its metrics; a null value was not measured.</summary>
public sealed record EvalSection(
    long? Rows, long? Answerable, long? Unanswerable,
    IReadOnlyList<string> Metrics,
    IReadOnlyList<EvalModelColumn> Models) : StageSection;

/// <summary>One model's column of the eval table; <see cref="Values"/> is null when the model was not evaluated.</summary>
public sealed record EvalModelColumn(string Model, IReadOnlyDictionary<string, double?>? Values);

/// <summary>generate: the probes of <c>samples.jsonl</c>, each answered by the base and the tuned model.</summary>
public sealed record GenerateSection(IReadOnlyList<ProbeSample> Samples) : StageSection;

/// <summary>One probe; <see cref="Base"/> or <see cref="Tuned"/> is null when that model was not run.</summary>
public sealed record ProbeSample(string Probe, string? System, string User, string? Base, string? Tuned);

using RaftPipeline.Core.Engine;
using RaftPipeline.Core.Spec.Stages;
using RaftPipeline.Modeling.Generation;
using RaftPipeline.Modeling.Native;
using RaftPipeline.Stages.Data;
using RaftPipeline.Stages.Format;
using RaftPipeline.Stages.Generate;
using RaftPipeline.Stages.Load;

namespace RaftPipeline.Stages.Eval;

/// <summary>
/// The <c>eval</c> stage: on the load artifact's test split (the first <c>max_rows</c> rows), prompts each row as the
/// format stage renders training chats, answers with the base model (when <c>compare_base</c>) and with the adapter
/// attached (when given), scores the answers (<see cref="AnswerScorer"/>) and the teacher-forced loss of the reference
/// answer, and writes <see cref="EvalArtifact"/>; eval.json and eval.md also go to the report folder.
/// </summary>
public sealed class EvalStageExecutor : IStageExecutor
{
    public const string ModelSlot = "model";
    public const string AdapterSlot = "adapter";
    public const string DataSlot = "data";

    public string Kind => "eval";

    /// <summary>
    /// 1: batches of 8, greedy by default, rules as AnswerScorer documents (quote span ≥ 8 chars), token-weighted loss.
    /// 2: the loss from the continuation positions' logits only. 3: rows length-sorted into batches of batch_size (default
    /// 8), finished rows leaving their batch, each row's repetition penalty over its own ids only (not the padding) and
    /// its own sampling seed (from its index): a row answers as it would alone.
    /// </summary>
    public int Version => 3;

    public Task<StageOutcome> RunAsync(StageContext context, CancellationToken cancellationToken)
    {
        TorchRuntime.EnsureInitialized();
        var parameters = context.Parameters<EvalParameters>();
        string? adapter = context.Inputs.TryGetValue(AdapterSlot, out var a) && a.Count > 0 ? context.Input(AdapterSlot) : null;
        if (adapter is null && !parameters.CompareBase)
            throw new InvalidOperationException($"stage '{context.Stage.Name}': nothing to evaluate: compare_base is false and no adapter is given");

        string data = context.Input(DataSlot);
        var rows = LoadArtifact.ReadTest(data);
        if (rows.Count == 0)
            throw new InvalidOperationException(
                $"stage '{context.Stage.Name}': the test split is empty ({Path.Combine(data, LoadArtifact.TestFile)} has no rows): " +
                "set the load stage's test_size (a fraction such as 0.1, or a row count) so eval has held-out rows");
        if (parameters.MaxRows is int max && max < rows.Count) rows = rows.Take(max).ToList();

        var scorer = new AnswerScorer(parameters.Opening, parameters.Marker, parameters.Refusal);
        var template = new UserTemplate(parameters.UserTemplate);
        string? system = string.IsNullOrEmpty(parameters.SystemPrompt) ? null : parameters.SystemPrompt;
        long seed = parameters.Sampling.Seed ?? SeedDerivation.Derive(context.Seed, Kind);

        using var chat = ChatModel.Load(context.Input(ModelSlot), context.Device);
        var users = rows.Select(r => template.Render(r.Context, r.Question)).ToList();
        var prompts = users.Select(u => chat.Encode(chat.Renderer.Prompt(system, u))).ToList();
        var references = rows.Select((r, i) => chat.Encode(chat.Renderer.ReferenceContinuation(system, users[i], r.Answer))).ToList();

        // Every row samples with its own seed (from its index), so its answer does not depend on the batching.
        var options = rows.Select((_, i) => chat.Options(parameters.Sampling, SeedDerivation.Derive(seed, $"row {i}"))).ToList();
        int batchSize = parameters.BatchSize ?? TextGenerator.DefaultBatchSize;

        var answers = new Dictionary<string, AnswerScore[]>();
        if (parameters.CompareBase) answers["base"] = Evaluate("base");
        if (adapter is not null)
        {
            chat.AttachAdapter(adapter);
            answers["tuned"] = Evaluate("tuned");
        }

        var predictions = rows.Select((r, i) => new RowPrediction(r, answers.ToDictionary(m => m.Key, m => m.Value[i]))).ToList();
        var metrics = answers.ToDictionary(m => m.Key, m => ModelMetrics.From(rows.Select((r, i) => (r.Answerable, m.Value[i])).ToList()));
        var eval = EvalArtifact.Write(context.OutputDirectory, predictions, metrics, scorer);
        foreach (var name in new[] { EvalArtifact.EvalFile, EvalArtifact.MarkdownFile })
            File.Copy(Path.Combine(context.OutputDirectory, name), Path.Combine(context.ReportDirectory, name), overwrite: true);
        foreach (var line in EvalArtifact.ToMarkdown(rows.Count, metrics, scorer).TrimEnd('\n').Split('\n')) context.Progress.Log(line);
        return Task.FromResult(new StageOutcome(eval));

        AnswerScore[] Evaluate(string label)
        {
            var generated = chat.GenerateAll(prompts, options, batchSize,
                done => context.Progress.Report($"eval ({label})", done, rows.Count), cancellationToken);
            var scores = new AnswerScore[rows.Count];
            for (int i = 0; i < rows.Count; i++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var (lossSum, tokens) = chat.ContinuationLoss(prompts[i], references[i]);
                string text = generated[i].Text;
                scores[i] = new AnswerScore(text, scorer.HasOpening(text), scorer.QuotedSpan(text, rows[i].Context), scorer.Refuses(text), lossSum, tokens);
            }
            return scores;
        }
    }
}

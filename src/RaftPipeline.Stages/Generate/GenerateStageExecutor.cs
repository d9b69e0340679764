using System.Text.Json.Nodes;
using RaftPipeline.Core.Engine;
using RaftPipeline.Core.Spec.Stages;
using RaftPipeline.Modeling.Generation;
using RaftPipeline.Modeling.Native;

namespace RaftPipeline.Stages.Generate;

/// <summary>
/// The <c>generate</c> stage: answers each probe with the base model (when <c>compare_base</c>) and with the adapter
/// attached (when one is given), using the model's chat template and the configured sampling, and writes
/// <see cref="SamplesArtifact"/> into the artifact and the report folder. The probes are decoded together, sorted by
/// prompt length into batches of <c>batch_size</c>; each samples with its own seed, derived from the sampling seed (else
/// the pipeline seed) and its name, so reruns give the same text and a probe's answer does not depend on the others.
/// </summary>
public sealed class GenerateStageExecutor : IStageExecutor
{
    public const string ModelSlot = "model";
    public const string AdapterSlot = "adapter";

    public string Kind => "generate";

    /// <summary>
    /// 1: one probe at a time, per-probe seeds from the probe name, answers decoded without special tokens. 2: probes in
    /// length-sorted batches (batch_size, default 8), each with its own generator: the same tokens as 1 on the CPU in fp32,
    /// but a GPU batch in bf16 may round differently.
    /// </summary>
    public int Version => 2;

    public Task<StageOutcome> RunAsync(StageContext context, CancellationToken cancellationToken)
    {
        TorchRuntime.EnsureInitialized();
        var parameters = context.Parameters<GenerateParameters>();
        string? adapter = context.Inputs.TryGetValue(AdapterSlot, out var a) && a.Count > 0 ? context.Input(AdapterSlot) : null;
        if (adapter is null && !parameters.CompareBase)
            throw new InvalidOperationException(
                $"stage '{context.Stage.Name}': nothing to generate: compare_base is false and no adapter is given");
        var probes = parameters.Prompts.Select(p => (p.Name, Messages: ProbeMessages.For(p, parameters))).ToList();
        long seed = parameters.Sampling.Seed ?? SeedDerivation.Derive(context.Seed, Kind);

        using var chat = ChatModel.Load(context.Input(ModelSlot), context.Device);
        var prompts = probes.Select(p => chat.Encode(chat.Renderer.Prompt(p.Messages.System, p.Messages.User))).ToList();

        // Every probe keeps its own seed (from its name), so its answer does not depend on the other probes or the batching.
        var options = probes.Select(p => chat.Options(parameters.Sampling, SeedDerivation.Derive(seed, p.Name))).ToList();
        int batchSize = parameters.BatchSize ?? TextGenerator.DefaultBatchSize;

        string?[] Answer(string label)
        {
            var answers = chat.GenerateAll(prompts, options, batchSize,
                done => context.Progress.Report($"generate ({label})", done, probes.Count), cancellationToken);
            for (int i = 0; i < probes.Count; i++)
                context.Progress.Log($"[{label}] {probes[i].Name}: {answers[i].Ids.Count} tokens ({answers[i].Finish})");
            return answers.Select(answer => (string?)answer.Text).ToArray();
        }

        var baseAnswers = parameters.CompareBase ? Answer("base") : new string?[probes.Count];
        string?[] tunedAnswers = new string?[probes.Count];
        if (adapter is not null)
        {
            chat.AttachAdapter(adapter);
            tunedAnswers = Answer("tuned");
        }

        var samples = probes.Select((p, i) => new SampleRecord(p.Name, p.Messages.System, p.Messages.User, baseAnswers[i], tunedAnswers[i])).ToList();
        SamplesArtifact.Write(context.OutputDirectory, samples);
        foreach (var name in new[] { SamplesArtifact.SamplesFile, SamplesArtifact.MarkdownFile })
            File.Copy(Path.Combine(context.OutputDirectory, name), Path.Combine(context.ReportDirectory, name), overwrite: true);

        return Task.FromResult(new StageOutcome(new JsonObject
        {
            ["probes"] = probes.Count,
            ["base"] = parameters.CompareBase,
            ["tuned"] = adapter is not null,
            ["seed"] = seed,
        }));
    }
}

using System.Text.Json.Nodes;
using RaftPipeline.Core.Engine;
using RaftPipeline.Core.Spec.Stages;
using RaftPipeline.Modeling.Native;

namespace RaftPipeline.Stages.Generate;

/// <summary>
/// The <c>generate</c> stage: answers each probe with the base model (when <c>compare_base</c>) and with the adapter
/// attached (when one is given), using the model's chat template and the configured sampling, and writes
/// <see cref="SamplesArtifact"/> into the artifact and the report folder. Each probe is generated on its own with a
/// seed derived from the sampling seed (else the pipeline seed) and its name, so reruns give the same text.
/// </summary>
public sealed class GenerateStageExecutor : IStageExecutor
{
    public const string ModelSlot = "model";
    public const string AdapterSlot = "adapter";

    public string Kind => "generate";

    /// <summary>1: one probe at a time, per-probe seeds from the probe name, answers decoded without special tokens.</summary>
    public int Version => 1;

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

        string?[] Answer(string label)
        {
            var answers = new string?[probes.Count];
            for (int i = 0; i < probes.Count; i++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var options = chat.Options(parameters.Sampling, SeedDerivation.Derive(seed, probes[i].Name));
                var answer = chat.Generate(prompts[i], options, cancellationToken);
                answers[i] = answer.Text;
                context.Progress.Report($"generate ({label})", i + 1, probes.Count);
                context.Progress.Log($"[{label}] {probes[i].Name}: {answer.Ids.Count} tokens ({answer.Finish})");
            }
            return answers;
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

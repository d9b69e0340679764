using System.Text.Json.Nodes;
using RaftPipeline.Core.Engine;
using RaftPipeline.Core.Spec.Stages;
using RaftPipeline.Modeling.Adapters;
using RaftPipeline.Modeling.Config;
using RaftPipeline.Modeling.Families;
using RaftPipeline.Modeling.Decoder;
using RaftPipeline.Modeling.Lora;
using RaftPipeline.Modeling.Native;
using RaftPipeline.Stages.Models;
using TorchSharp;
using static TorchSharp.torch;
using ModelingLoraInit = RaftPipeline.Modeling.Lora.LoraInit;
using SpecLoraInit = RaftPipeline.Core.Spec.Stages.LoraInit;

namespace RaftPipeline.Stages.Lora;

/// <summary>
/// The <c>lora</c> stage (the notebook's LoraConfig + get_peft_model + print_trainable_parameters): builds a freshly
/// initialized peft adapter for the model's shape and saves it with <see cref="AdapterStore"/>. Only shapes matter
/// for kaiming and gaussian inits, so the model is built from config.json alone, its storage never filled; a 4-bit
/// folder gives the same shapes and the same parameter count (peft counts a 4-bit weight by its original size).
/// </summary>
public sealed class LoraStageExecutor : IStageExecutor
{
    public const string ModelSlot = "model";
    public const string TrainableParametersFile = "trainable_parameters.txt";

    public string Kind => "lora";

    /// <summary>1: per-module seeded init (A kaiming-uniform a=√5 or N(0, 1/r), B zero), fp32 A and B.</summary>
    public int Version => 1;

    public Task<StageOutcome> RunAsync(StageContext context, CancellationToken cancellationToken)
    {
        var parameters = context.Parameters<LoraParameters>();
        var modelDir = context.Input(ModelSlot);
        var config = ModelConfigReader.ReadFolder(modelDir);
        var lora = ToLoraConfig(parameters, context.Seed, context.Stage.Name, config.Descriptor);

        TorchRuntime.EnsureInitialized();
        using var model = new CausalLM(config, ScalarType.BFloat16, torch.CPU);
        foreach (var (_, p) in model.named_parameters()) p.requires_grad = false; // the frozen base, as get_peft_model leaves it
        var wrapped = LoraInjector.Apply(model, lora);
        var count = TrainableParameters.Count(model);
        AdapterStore.Save(model, AdapterConfig.From(lora, BaseModelName.Of(modelDir), wrapped, expertModel: config.Moe is not null), context.OutputDirectory);

        var line = count.ToString();
        File.WriteAllText(Path.Combine(context.ReportDirectory, TrainableParametersFile), line + "\n");
        context.Progress.Log($"{wrapped.Count} modules adapted (r={lora.R}, alpha={lora.Alpha}, scaling {lora.Scaling:G6})");
        context.Progress.Log(line);
        return Task.FromResult(new StageOutcome(new JsonObject
        {
            ["trainable_parameters"] = count.Trainable,
            ["all_parameters"] = count.All,
            ["trainable_percent"] = Math.Round(100.0 * count.Trainable / count.All, 4),
            ["adapted_modules"] = wrapped.Count,
            ["scaling"] = lora.Scaling,
        }));
    }

    /// <summary>
    /// The spec's LoRA parameters as the Modeling layer's config; the init seed is the pipeline seed's bits. No
    /// target_modules: the family's attention and MLP projections as peft names them (Phi-3's fused ones included).
    /// </summary>
    public static LoraConfig ToLoraConfig(LoraParameters p, long pipelineSeed, string stageName, FamilyDescriptor family) => new()
    {
        R = p.R,
        Alpha = p.LoraAlpha,
        Dropout = p.LoraDropout,
        UseRslora = p.UseRslora,
        Targets = p.TargetModules switch
        {
            null => LoraTargets.FromNames([.. family.LoraTargetNames]),
            [var single] when string.Equals(single, LoraTargets.AllLinearShorthand, StringComparison.OrdinalIgnoreCase) => LoraTargets.AllLinear(),
            var names => LoraTargets.FromNames([.. names]),
        },
        TargetParameters = p.TargetParameters ?? [],
        Init = p.Init switch
        {
            SpecLoraInit.Kaiming => ModelingLoraInit.Kaiming,
            SpecLoraInit.Gaussian => ModelingLoraInit.Gaussian,
            // PiSSA needs the base weights' SVD and rewrites the base: not implemented, and never quietly replaced.
            SpecLoraInit.Pissa => throw new NotSupportedException($"stage '{stageName}': init pissa is not implemented; use kaiming or gaussian"),
            _ => throw new ArgumentOutOfRangeException(nameof(p), p.Init, "unknown LoRA init"),
        },
        Seed = unchecked((ulong)pipelineSeed),
    };
}

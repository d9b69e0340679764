using System.Text.Json.Nodes;
using RaftPipeline.Core.Engine;
using RaftPipeline.Core.Spec.Stages;
using RaftPipeline.Modeling.Decoder;
using RaftPipeline.Modeling.Native;
using RaftPipeline.Modeling.Presets;
using RaftPipeline.Stages.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace RaftPipeline.Stages.Preset;

/// <summary>
/// The <c>model</c> stage: writes a built-in model as a Hugging Face folder (config.json, model.safetensors,
/// generation_config.json, the Qwen3 tokenizer files), so a pipeline runs with no download. The weights depend only
/// on the seed: the same seed writes the same bytes on every machine.
/// </summary>
public sealed class ModelPresetStageExecutor : IStageExecutor
{
    public string Kind => "model";

    /// <summary>
    /// 1: the tiny preset (2-layer Qwen3, SplitMix64 normals rounded to bf16). 2: its final norm weight is 16, so an
    /// adapter can reach confident logits (TinyPreset's remarks); the same seed now writes different bytes.
    /// </summary>
    public int Version => 2;

    public Task<StageOutcome> RunAsync(StageContext context, CancellationToken cancellationToken)
    {
        var parameters = context.Parameters<ModelParameters>();
        TorchRuntime.EnsureInitialized();
        // The seed's bits as they are, like the load stage's shuffle seed: -1 and ulong.MaxValue are the same model.
        ulong seed = unchecked((ulong)(parameters.Seed ?? context.Seed));
        var files = parameters.Preset switch
        {
            ModelPreset.Tiny => TinyPreset.Write(context.OutputDirectory, seed),
            _ => throw new ArgumentOutOfRangeException(nameof(context), parameters.Preset, "unknown model preset"),
        };
        // Not a Hub id: the name adapters and model cards built on this model carry.
        BaseModelName.Write(context.OutputDirectory, "raft-" + TinyPreset.Name);
        var config = TinyPreset.Config;
        long parametersCount;
        // Shapes only: the storage is never written, so this costs no time.
        using (var shapes = new CausalLM(config, ScalarType.BFloat16, torch.CPU))
            parametersCount = shapes.parameters().Sum(p => p.numel());
        context.Progress.Log($"preset {TinyPreset.Name}: {config.NumHiddenLayers} layers, hidden {config.HiddenSize}, " +
            $"{parametersCount:N0} parameters, seed {seed}; {files.Count} files");
        return Task.FromResult(new StageOutcome(new JsonObject
        {
            ["preset"] = TinyPreset.Name,
            ["seed"] = seed,
            ["parameters"] = parametersCount,
            ["files"] = new JsonArray(files.Select(f => (JsonNode)Path.GetFileName(f)).ToArray()),
        }));
    }
}

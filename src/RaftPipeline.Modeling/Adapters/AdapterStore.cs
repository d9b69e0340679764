using RaftPipeline.Modeling.Layers;
using RaftPipeline.Modeling.Lora;
using RaftPipeline.Modeling.Safetensors;
using TorchSharp;
using static TorchSharp.torch;

namespace RaftPipeline.Modeling.Adapters;

/// <summary>
/// Saves and loads LoRA adapters in peft's folder layout: adapter_config.json + adapter_model.safetensors (fp32
/// lora_A [r, in] and lora_B [out, r] under <see cref="AdapterKeys"/>).
/// </summary>
public static class AdapterStore
{
    public const string WeightsFileName = "adapter_model.safetensors";

    public static void Save(nn.Module model, AdapterConfig config, string directory)
    {
        var adapters = LoraInjector.Adapters(model);
        if (adapters.Count == 0) throw new InvalidOperationException("the model holds no LoRA adapter to save");
        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, AdapterConfig.FileName), config.ToJson());
        var tensors = adapters
            .SelectMany(a => new[]
            {
                TensorToWrite.Of(AdapterKeys.A(a.Path), a.Layer.LoraA.detach(), ScalarType.Float32),
                TensorToWrite.Of(AdapterKeys.B(a.Path), a.Layer.LoraB.detach(), ScalarType.Float32),
            })
            .ToList();
        SafetensorsWriter.Write(Path.Combine(directory, WeightsFileName), tensors, new Dictionary<string, string> { ["format"] = "pt" });
    }

    /// <summary>
    /// Reads an adapter folder, wraps the matching modules of <paramref name="model"/> and fills A and B from the
    /// file. Refuses, naming the first offending key (in file order), a key whose module the model lacks or does not
    /// target, a shape that does not fit, and a targeted module the file has no weights for.
    /// </summary>
    public static AdapterConfig Load(nn.Module model, string directory)
    {
        var configPath = Path.Combine(directory, AdapterConfig.FileName);
        if (!File.Exists(configPath)) throw new FileNotFoundException($"{directory}: no {AdapterConfig.FileName}", configPath);
        var config = AdapterConfig.Read(configPath);
        var weightsPath = Path.Combine(directory, WeightsFileName);
        if (!File.Exists(weightsPath)) throw new FileNotFoundException($"{directory}: no {WeightsFileName}", weightsPath);
        using var file = SafetensorsFile.Open(weightsPath);

        // Check everything against the model before changing anything.
        var slots = model.named_modules().Where(m => m.module is LinearSlot and not LoraLinear)
            .ToDictionary(m => m.name, m => (LinearSlot)m.module);
        var targeted = slots.Keys.Where(p => config.Lora.Targets.Matches(p, p == LoraInjector.OutputEmbeddingPath)).ToHashSet(StringComparer.Ordinal);
        foreach (var entry in file.Entries)
        {
            var parsed = AdapterKeys.Parse(entry.Name)
                ?? throw new InvalidDataException($"{weightsPath}: key '{entry.Name}' is not a LoRA weight (expected {AdapterKeys.Prefix}<module>.lora_A.weight or .lora_B.weight)");
            if (!slots.TryGetValue(parsed.ModulePath, out var slot))
                throw new InvalidDataException($"{weightsPath}: key '{entry.Name}' names module '{parsed.ModulePath}', which the base model does not have");
            if (!targeted.Contains(parsed.ModulePath))
                throw new InvalidDataException($"{weightsPath}: key '{entry.Name}' is for module '{parsed.ModulePath}', which target_modules does not select");
            long[] expected = parsed.Matrix == "lora_A" ? new long[] { config.Lora.R, slot.InFeatures } : new long[] { slot.OutFeatures, config.Lora.R };
            if (!entry.Shape.SequenceEqual(expected))
                throw new InvalidDataException(
                    $"{weightsPath}: key '{entry.Name}' has shape [{string.Join(", ", entry.Shape)}], the base model needs [{string.Join(", ", expected)}] (r={config.Lora.R})");
        }
        foreach (var path in slots.Keys.Where(targeted.Contains))
            foreach (var key in new[] { AdapterKeys.A(path), AdapterKeys.B(path) })
                if (!file.Contains(key))
                    throw new InvalidDataException($"{weightsPath}: key '{key}' is missing: target_modules selects module '{path}' but the file has no weights for it");

        var wrapped = LoraInjector.Apply(model, config.Lora);
        var layers = LoraInjector.Adapters(model).ToDictionary(a => a.Path, a => a.Layer);
        using var noGrad = torch.no_grad();
        foreach (var path in wrapped)
        {
            var layer = layers[path];
            foreach (var (key, target) in new[] { (AdapterKeys.A(path), layer.LoraA), (AdapterKeys.B(path), layer.LoraB) })
            {
                using var t = file.Read(key, target.device, ScalarType.Float32);
                target.copy_(t);
            }
        }
        return config;
    }
}

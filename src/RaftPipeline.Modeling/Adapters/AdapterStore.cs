using RaftPipeline.Modeling.Layers;
using RaftPipeline.Modeling.Lora;
using RaftPipeline.Modeling.Safetensors;
using TorchSharp;
using static TorchSharp.torch;

namespace RaftPipeline.Modeling.Adapters;

/// <summary>
/// Saves and loads LoRA adapters in peft's folder layout: adapter_config.json + adapter_model.safetensors (fp32
/// lora_A [r, in] and lora_B [out, r] under <see cref="AdapterKeys"/>; for Qwen3-MoE's expert tensors A [r·experts, in]
/// and B [out, r·experts] under peft's nested ParamWrapper names, see <see cref="ExpertLora.SavedModulePath"/>).
/// </summary>
public static class AdapterStore
{
    public const string WeightsFileName = "adapter_model.safetensors";

    public static void Save(nn.Module model, AdapterConfig config, string directory)
    {
        var adapters = LoraInjector.AdapterTensors(model);
        if (adapters.Count == 0) throw new InvalidOperationException("the model holds no LoRA adapter to save");
        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, AdapterConfig.FileName), config.ToJson());
        var tensors = adapters.Select(a => TensorToWrite.Of(a.Key, a.Tensor.detach(), ScalarType.Float32)).ToList();
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
        var slots = LoraInjector.TargetableSlots(model).ToDictionary(m => m.Path, m => m.Slot);
        var targeted = slots.Keys.Where(p => config.Lora.Targets.Matches(p, p == LoraInjector.OutputEmbeddingPath)).ToHashSet(StringComparer.Ordinal);
        try { ExpertLora.CheckSupported(config.Lora.TargetParameters, LoraInjector.Experts(model).Select(x => x.Path).ToList(), configPath); }
        catch (ArgumentException e) { throw new InvalidDataException(e.Message, e); }
        // The expert tensors target_parameters selects: saved key -> the shape it must have.
        var expertKeys = new Dictionary<string, long[]>(StringComparer.Ordinal);
        foreach (var (path, experts) in LoraInjector.Experts(model))
        {
            var chosen = ExpertLora.Targeted(path, config.Lora.TargetParameters);
            foreach (var parameter in chosen)
            {
                var (inFeatures, outFeatures) = experts.TensorShape(parameter);
                long rows = (long)config.Lora.R * experts.Count;
                var (keyA, keyB) = ExpertLora.SavedKeys(path, parameter, chosen);
                expertKeys[keyA] = [rows, inFeatures];
                expertKeys[keyB] = [outFeatures, rows];
            }
        }
        foreach (var entry in file.Entries)
        {
            long[] expected;
            if (expertKeys.TryGetValue(entry.Name, out var expertShape)) expected = expertShape;
            else
            {
                var parsed = AdapterKeys.Parse(entry.Name)
                    ?? throw new InvalidDataException($"{weightsPath}: key '{entry.Name}' is not a LoRA weight (expected {AdapterKeys.Prefix}<module>.lora_A.weight or .lora_B.weight)");
                if (!slots.TryGetValue(parsed.ModulePath, out var slot))
                    throw new InvalidDataException($"{weightsPath}: key '{entry.Name}' names module '{parsed.ModulePath}', which the base model does not have" +
                        (parsed.ModulePath.Contains(".experts", StringComparison.Ordinal) ? $" (expert tensors are adapted through target_parameters, which selects [{string.Join(", ", config.Lora.TargetParameters)}])" : ""));
                if (!targeted.Contains(parsed.ModulePath))
                    throw new InvalidDataException($"{weightsPath}: key '{entry.Name}' is for module '{parsed.ModulePath}', which target_modules does not select");
                expected = parsed.Matrix == "lora_A" ? [config.Lora.R, slot.InFeatures] : [slot.OutFeatures, config.Lora.R];
            }
            if (!entry.Shape.SequenceEqual(expected))
                throw new InvalidDataException(
                    $"{weightsPath}: key '{entry.Name}' has shape [{string.Join(", ", entry.Shape)}], the base model needs [{string.Join(", ", expected)}] (r={config.Lora.R})");
        }
        foreach (var path in slots.Keys.Where(targeted.Contains))
            foreach (var key in new[] { AdapterKeys.A(path), AdapterKeys.B(path) })
                if (!file.Contains(key))
                    throw new InvalidDataException($"{weightsPath}: key '{key}' is missing: target_modules selects module '{path}' but the file has no weights for it");
        foreach (var key in expertKeys.Keys)
            if (!file.Contains(key))
                throw new InvalidDataException($"{weightsPath}: key '{key}' is missing: target_parameters selects that expert tensor but the file has no weights for it");

        LoraInjector.Apply(model, config.Lora);
        using var noGrad = torch.no_grad();
        foreach (var (key, target) in LoraInjector.AdapterTensors(model))
        {
            using var t = file.Read(key, target.device, ScalarType.Float32);
            target.copy_(t);
        }
        return config;
    }
}

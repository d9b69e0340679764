using RaftPipeline.Modeling.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace RaftPipeline.Modeling.Lora;

/// <summary>
/// peft's get_peft_model for LoRA: every <see cref="LinearSlot"/> whose module path matches the targets is wrapped
/// in a <see cref="LoraLinear"/>. Fails when nothing matches, as peft does.
/// </summary>
public static class LoraInjector
{
    /// <summary>The output head transformers reports as get_output_embeddings for causal LMs.</summary>
    public const string OutputEmbeddingPath = "lm_head";

    /// <returns>The wrapped module paths, in model order.</returns>
    public static IReadOnlyList<string> Apply(nn.Module model, LoraConfig config)
    {
        config.Validate();
        var modules = model.named_modules().ToList();
        var byPath = modules.ToDictionary(m => m.name, m => m.module);
        var targets = modules
            .Where(m => m.module is LinearSlot and not LoraLinear)
            .Where(m => !IsInsideAdapter(m.name, byPath))
            .Where(m => config.Targets.Matches(m.name, m.name == OutputEmbeddingPath))
            .Select(m => m.name)
            .ToList();
        if (targets.Count == 0)
            throw new InvalidOperationException(
                $"Target modules {Describe(config.Targets)} not found in the base model. Linear modules: " +
                string.Join(", ", modules.Where(m => m.module is LinearSlot).Select(m => m.name).Take(10)));
        foreach (var path in targets)
        {
            int dot = path.LastIndexOf('.');
            var parent = dot < 0 ? model : byPath[path[..dot]];
            var name = path[(dot + 1)..];
            SlotReplacer.Replace(parent, name, new LoraLinear((LinearSlot)byPath[path], config, path));
        }
        return targets;
    }

    /// <summary>Every adapter in <paramref name="model"/> with its module path.</summary>
    public static IReadOnlyList<(string Path, LoraLinear Layer)> Adapters(nn.Module model) =>
        model.named_modules().Where(m => m.module is LoraLinear).Select(m => (m.name, (LoraLinear)m.module)).ToList();

    static bool IsInsideAdapter(string path, Dictionary<string, nn.Module> byPath)
    {
        for (int dot = path.LastIndexOf('.'); dot > 0; dot = path.LastIndexOf('.', dot - 1))
            if (byPath.TryGetValue(path[..dot], out var m) && m is LoraLinear) return true;
        return false;
    }

    static string Describe(LoraTargets t) =>
        t.IsAllLinear ? LoraTargets.AllLinearShorthand : t.Pattern ?? "[" + string.Join(", ", t.Names!) + "]";
}

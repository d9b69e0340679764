using RaftPipeline.Modeling.Adapters;
using RaftPipeline.Modeling.Decoder;
using RaftPipeline.Modeling.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RaftPipeline.Modeling.Lora;

/// <summary>
/// peft's get_peft_model for LoRA: every <see cref="LinearSlot"/> whose module path matches the targets is wrapped
/// in a <see cref="LoraLinear"/>, and every expert tensor target_parameters selects gets an <see cref="ExpertLora"/>.
/// The experts' own slots are never module targets: in transformers 5.x they are fused 3-D tensors, not modules, so
/// peft's target_modules cannot reach them. Fails when nothing matches, as peft does.
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
        var targets = TargetableSlots(model)
            .Where(m => config.Targets.Matches(m.Path, m.Path == OutputEmbeddingPath))
            .Select(m => m.Path)
            .ToList();
        ExpertLora.CheckSupported(config.TargetParameters, Experts(model).Select(x => x.Path).ToList(), "LoRA config");
        // peft refuses a target_modules name that selects Qwen3-MoE's router or experts module (neither is a linear layer).
        if (!config.Targets.IsAllLinear)
            foreach (var (path, module) in modules)
                if (module is MoeRouter or MoeExperts && config.Targets.Matches(path, false))
                    throw new InvalidOperationException(
                        $"target_modules {Describe(config.Targets)} selects '{path}', a {(module is MoeRouter ? "router" : "set of experts")}, which LoRA " +
                        "cannot wrap as a module (supported: linear projections; the experts' tensors go in target_parameters: mlp.experts.gate_up_proj, mlp.experts.down_proj)");
        // peft on transformers 5.x reads gate_proj/up_proj/down_proj in the target_modules of a Qwen3-MoE adapter as
        // the experts (converting them to target_parameters, gate_up_proj at twice the rank), so a LoRA on a dense
        // layer's MLP (mlp_only_layers) could not be loaded by peft as it was trained: refused here, before training.
        if (Experts(model).Any())
            foreach (var path in targets)
                if (DenseMlpNames.FirstOrDefault(n => path.EndsWith(".mlp." + n, StringComparison.Ordinal)) is { } dense)
                    throw new InvalidOperationException(
                        $"target_modules {Describe(config.Targets)} selects '{path}', a dense MLP projection of a mixture-of-experts model: " +
                        $"peft (transformers 5.x) reads '{dense}' in such an adapter as the experts' tensors, so it could not load this adapter as trained " +
                        "(supported: the attention projections in target_modules, the experts through target_parameters: mlp.experts.gate_up_proj, mlp.experts.down_proj)");
        var expertTargets = Experts(model)
            .SelectMany(x => ExpertLora.Targeted(x.Path, config.TargetParameters).Select(p => (x.Path, x.Experts, Parameter: p)))
            .ToList();
        if (targets.Count == 0 && expertTargets.Count == 0)
            throw new InvalidOperationException(
                $"Target modules {Describe(config.Targets)} not found in the base model. Linear modules: " +
                string.Join(", ", TargetableSlots(model).Select(m => m.Path).Take(10)));
        foreach (var path in targets)
        {
            int dot = path.LastIndexOf('.');
            var parent = dot < 0 ? model : byPath[path[..dot]];
            var name = path[(dot + 1)..];
            SlotReplacer.Replace(parent, name, new LoraLinear((LinearSlot)byPath[path], config, path));
        }
        foreach (var (path, experts, parameter) in expertTargets)
        {
            var (inFeatures, outFeatures) = experts.TensorShape(parameter);
            var device = experts[0].parameters().Concat(experts[0].buffers()).Select(t => t.device).FirstOrDefault() ?? torch.CPU;
            experts.Attach(new ExpertLora(parameter, experts.Count, inFeatures, outFeatures, config, $"{path}.{parameter}", device));
        }
        return [.. targets, .. expertTargets.Select(t => $"{t.Path}.{t.Parameter}")];
    }

    /// <summary>The MLP names peft remaps to a mixture-of-experts model's expert tensors (see <see cref="Apply"/>).</summary>
    public static readonly IReadOnlyList<string> DenseMlpNames = ["gate_proj", "up_proj", "down_proj"];

    /// <summary>The slots target_modules can select: not inside an adapter, not an expert's (see the class summary).</summary>
    public static IReadOnlyList<(string Path, LinearSlot Slot)> TargetableSlots(nn.Module model)
    {
        var modules = model.named_modules().ToList();
        var byPath = modules.ToDictionary(m => m.name, m => m.module);
        return modules
            .Where(m => m.module is LinearSlot and not LoraLinear)
            .Where(m => !IsInsideAdapter(m.name, byPath) && !IsInside<MoeExperts>(m.name, byPath))
            .Select(m => (m.name, (LinearSlot)m.module))
            .ToList();
    }

    /// <summary>Every MoE layer's experts with their module path (e.g. model.layers.0.mlp.experts).</summary>
    public static IReadOnlyList<(string Path, MoeExperts Experts)> Experts(nn.Module model) =>
        model.named_modules().Where(m => m.module is MoeExperts).Select(m => (m.name, (MoeExperts)m.module)).ToList();

    /// <summary>Every expert adapter with its experts' module path, in model order and peft's wrapping order.</summary>
    public static IReadOnlyList<(string ExpertsPath, ExpertLora Layer)> ExpertAdapters(nn.Module model) =>
        Experts(model).SelectMany(x => x.Experts.Adapters.Select(a => (x.Path, a))).ToList();

    /// <summary>Every trainable adapter tensor under its peft key (adapter name removed), as <see cref="Adapters.AdapterStore"/> saves them.</summary>
    public static IReadOnlyList<(string Key, Parameter Tensor)> AdapterTensors(nn.Module model)
    {
        var list = new List<(string, Parameter)>();
        foreach (var (path, layer) in Adapters(model))
        {
            list.Add((AdapterKeys.A(path), layer.LoraA));
            list.Add((AdapterKeys.B(path), layer.LoraB));
        }
        foreach (var (path, experts) in Experts(model))
        {
            var targeted = experts.Adapters.Select(a => a.ParameterName).ToList();
            foreach (var a in experts.Adapters)
            {
                var (keyA, keyB) = ExpertLora.SavedKeys(path, a.ParameterName, targeted);
                list.Add((keyA, a.lora_A));
                list.Add((keyB, a.lora_B));
            }
        }
        return list;
    }

    /// <summary>Every adapter in <paramref name="model"/> with its module path.</summary>
    public static IReadOnlyList<(string Path, LoraLinear Layer)> Adapters(nn.Module model) =>
        model.named_modules().Where(m => m.module is LoraLinear).Select(m => (m.name, (LoraLinear)m.module)).ToList();

    static bool IsInsideAdapter(string path, Dictionary<string, nn.Module> byPath) => IsInside<LoraLinear>(path, byPath);

    static bool IsInside<T>(string path, Dictionary<string, nn.Module> byPath)
    {
        for (int dot = path.LastIndexOf('.'); dot > 0; dot = path.LastIndexOf('.', dot - 1))
            if (byPath.TryGetValue(path[..dot], out var m) && m is T) return true;
        return false;
    }

    static string Describe(LoraTargets t) =>
        t.IsAllLinear ? LoraTargets.AllLinearShorthand : t.Pattern ?? "[" + string.Join(", ", t.Names!) + "]";
}

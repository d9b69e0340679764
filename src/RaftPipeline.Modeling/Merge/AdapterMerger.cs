using RaftPipeline.Modeling.Adapters;
using RaftPipeline.Modeling.Lora;
using RaftPipeline.Modeling.Safetensors;
using TorchSharp;
using static TorchSharp.torch;

namespace RaftPipeline.Modeling.Merge;

/// <summary>
/// peft's merge_and_unload into the 16-bit base, streamed: W' = W + scaling · B @ A for every adapted weight,
/// computed in fp32 and stored in the base's dtype (as peft's in-place "weight.data += delta" on a bf16 base does);
/// every other tensor is copied as it is. Tensors are read, merged and written one at a time through the
/// safetensors writer's producers, so host memory stays near one tensor, never the model. Qwen3-MoE's expert adapters
/// (target_parameters) merge into the checkpoint's per-expert keys: expert e's gate_up_proj update (rows gate | up) into
/// mlp.experts.e.gate_proj.weight and .up_proj.weight, its down_proj update into .down_proj.weight.
/// </summary>
public static class AdapterMerger
{
    /// <summary>Files that define how text becomes ids; taken from the adapter folder when it has them.</summary>
    public static readonly string[] TokenizerFiles =
    {
        "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "chat_template.jinja", "chat_template.json",
        "vocab.json", "merges.txt", "added_tokens.json", "tokenizer.model",
    };

    public sealed record Result(IReadOnlyList<string> WeightFiles, IReadOnlyList<string> MergedKeys, IReadOnlyList<string> CopiedFiles);

    /// <param name="dtype">Type of every floating-point tensor written; null keeps each tensor's type in the base.</param>
    public static Result Merge(string baseDir, string adapterDir, string outDir, long maxShardBytes = Loading.PretrainedSaver.DefaultMaxShardBytes,
        ScalarType? dtype = null)
    {
        var configPath = Path.Combine(adapterDir, AdapterConfig.FileName);
        if (!File.Exists(configPath))
            throw new FileNotFoundException($"{adapterDir}: no {AdapterConfig.FileName}; expected a peft adapter folder", configPath);
        var config = AdapterConfig.Read(configPath);
        var weightsPath = Path.Combine(adapterDir, AdapterStore.WeightsFileName);
        using var adapter = SafetensorsFile.Open(weightsPath);
        using var checkpoint = SafetensorsCheckpoint.Open(baseDir);

        var expertUpdates = ExpertUpdates(config, adapter, checkpoint, weightsPath, baseDir);
        // module path -> (A key, B key), checked against the base's weights before anything is written.
        var modules = new SortedDictionary<string, (string A, string B)>(StringComparer.Ordinal);
        foreach (var entry in adapter.Entries)
        {
            if (expertUpdates.Keys.Contains(entry.Name)) continue;
            var parsed = AdapterKeys.Parse(entry.Name)
                ?? throw new InvalidDataException($"{weightsPath}: key '{entry.Name}' is not a LoRA weight");
            // peft builds LoRA layers from target_modules and ignores weights for any other module (unexpected keys),
            // so merging such a key would give a model peft's merge_and_unload does not; AdapterStore refuses it too.
            if (!config.Lora.Targets.Matches(parsed.ModulePath, parsed.ModulePath == LoraInjector.OutputEmbeddingPath))
                throw new InvalidDataException($"{weightsPath}: key '{entry.Name}' is for module '{parsed.ModulePath}', which target_modules in {configPath} does not select");
            var weightKey = parsed.ModulePath + ".weight";
            if (!checkpoint.Contains(weightKey))
                throw new InvalidDataException($"{weightsPath}: key '{entry.Name}' needs base weight '{weightKey}', which {baseDir} does not have");
            var w = checkpoint.Entry(weightKey);
            long[] expected = parsed.Matrix == "lora_A" ? new long[] { config.Lora.R, w.Shape[1] } : new long[] { w.Shape[0], config.Lora.R };
            if (!entry.Shape.SequenceEqual(expected))
                throw new InvalidDataException(
                    $"{weightsPath}: key '{entry.Name}' has shape [{string.Join(", ", entry.Shape)}], base weight '{weightKey}' [{string.Join(", ", w.Shape)}] needs [{string.Join(", ", expected)}]");
            modules[parsed.ModulePath] = (AdapterKeys.A(parsed.ModulePath), AdapterKeys.B(parsed.ModulePath));
        }
        foreach (var (path, keys) in modules)
            foreach (var key in new[] { keys.A, keys.B })
                if (!adapter.Contains(key)) throw new InvalidDataException($"{weightsPath}: key '{key}' is missing (module '{path}' has only one of A and B)");

        Directory.CreateDirectory(outDir);
        double scaling = config.Lora.Scaling;
        var merged = new List<string>();
        // Keep the base's own tensor order (shard by shard) so the output shards mirror the input's.
        var names = checkpoint.Files.SelectMany(f => f.Entries.Select(e => e.Name)).ToList();
        var tensors = names.Select(name =>
        {
            var entry = checkpoint.Entry(name);
            var outType = dtype is { } d && entry.Dtype is ScalarType.BFloat16 or ScalarType.Float16 or ScalarType.Float32 or ScalarType.Float64
                ? d : entry.Dtype;
            if (expertUpdates.Weights.TryGetValue(name, out var update))
            {
                merged.Add(name);
                return new TensorToWrite(name, outType, entry.Shape, () =>
                {
                    using var scope = NewDisposeScope();
                    var w = checkpoint.Read(name, dtype: ScalarType.Float32);
                    return (w + update.Delta()).to(outType).MoveToOuterDisposeScope();
                });
            }
            var module = name.EndsWith(".weight", StringComparison.Ordinal) ? name[..^".weight".Length] : null;
            if (module is null || !modules.TryGetValue(module, out var keys))
                return new TensorToWrite(name, outType, entry.Shape, () => checkpoint.Read(name, dtype: outType));
            merged.Add(name);
            return new TensorToWrite(name, outType, entry.Shape, () =>
            {
                using var scope = NewDisposeScope();
                var w = checkpoint.Read(name, dtype: ScalarType.Float32);
                var a = adapter.Read(keys.A, dtype: ScalarType.Float32);
                var b = adapter.Read(keys.B, dtype: ScalarType.Float32);
                return (w + torch.matmul(b, a) * scaling).to(outType).MoveToOuterDisposeScope();
            });
        }).ToList();
        var files = SafetensorsWriter.WriteSharded(outDir, tensors, maxShardBytes);

        var copied = new List<string>();
        foreach (var file in new[] { "config.json", "generation_config.json" }.Concat(TokenizerFiles))
        {
            var from = File.Exists(Path.Combine(adapterDir, file)) && TokenizerFiles.Contains(file)
                ? Path.Combine(adapterDir, file) : Path.Combine(baseDir, file);
            if (!File.Exists(from)) continue;
            File.Copy(from, Path.Combine(outDir, file), overwrite: true);
            copied.Add(from);
        }
        return new Result(files, merged, copied);
    }

    /// <summary>The adapter keys of the expert tensors, and for each per-expert base weight how to compute its update.</summary>
    sealed record ExpertPlan(HashSet<string> Keys, Dictionary<string, ExpertUpdate> Weights);

    /// <summary>One expert weight's update: rows <c>Rows</c> of expert <c>Expert</c>'s scaling · B_e @ A_e.</summary>
    sealed record ExpertUpdate(SafetensorsFile Adapter, string A, string B, int Expert, int R, int Experts, double Scaling, long RowStart, long Rows)
    {
        public Tensor Delta()
        {
            using var scope = NewDisposeScope();
            var a = Adapter.Read(A, dtype: ScalarType.Float32);
            var b = Adapter.Read(B, dtype: ScalarType.Float32);
            return ExpertLora.DeltaWeight(a, b, Expert, R, Experts, Scaling).narrow(0, RowStart, Rows).MoveToOuterDisposeScope();
        }
    }

    /// <summary>
    /// Finds the MoE layers in the checkpoint (keys …mlp.experts.N.gate_proj.weight), the expert tensors the adapter's
    /// target_parameters selects there, and checks their saved A and B against the experts' shapes.
    /// </summary>
    static ExpertPlan ExpertUpdates(AdapterConfig config, SafetensorsFile adapter, SafetensorsCheckpoint checkpoint, string weightsPath, string baseDir)
    {
        var plan = new ExpertPlan(new HashSet<string>(StringComparer.Ordinal), new Dictionary<string, ExpertUpdate>(StringComparer.Ordinal));
        if (config.Lora.TargetParameters.Count == 0) return plan;
        var pattern = new System.Text.RegularExpressions.Regex(@"^(.+\.experts)\.(\d+)\.gate_proj\.weight$");
        var layers = checkpoint.TensorNames.Select(n => pattern.Match(n)).Where(m => m.Success)
            .GroupBy(m => m.Groups[1].Value, m => int.Parse(m.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        try { ExpertLora.CheckSupported(config.Lora.TargetParameters, layers.Select(l => l.Key).ToList(), Path.Combine(Path.GetDirectoryName(weightsPath)!, AdapterConfig.FileName)); }
        catch (ArgumentException e) { throw new InvalidDataException(e.Message, e); }
        int r = config.Lora.R;
        foreach (var layer in layers)
        {
            string path = layer.Key;
            int experts = layer.Max() + 1;
            var chosen = ExpertLora.Targeted(path, config.Lora.TargetParameters);
            foreach (var parameter in chosen)
            {
                var (keyA, keyB) = ExpertLora.SavedKeys(path, parameter, chosen);
                var gate = checkpoint.Entry($"{path}.0.gate_proj.weight");
                var down = checkpoint.Entry($"{path}.0.down_proj.weight");
                long inner = gate.Shape[0];
                var (inFeatures, outFeatures) = parameter == ExpertLora.GateUpProj ? (gate.Shape[1], 2 * inner) : (down.Shape[1], down.Shape[0]);
                foreach (var (key, shape) in new[] { (keyA, new[] { (long)r * experts, inFeatures }), (keyB, new[] { outFeatures, (long)r * experts }) })
                {
                    if (!adapter.Contains(key))
                        throw new InvalidDataException($"{weightsPath}: key '{key}' is missing: target_parameters selects {path}.{parameter}");
                    if (!adapter.Entry(key).Shape.SequenceEqual(shape))
                        throw new InvalidDataException(
                            $"{weightsPath}: key '{key}' has shape [{string.Join(", ", adapter.Entry(key).Shape)}], {experts} experts of {baseDir} need [{string.Join(", ", shape)}] (r={r})");
                    plan.Keys.Add(key);
                }
                for (int e = 0; e < experts; e++)
                {
                    if (parameter == ExpertLora.GateUpProj)
                    {
                        plan.Weights[$"{path}.{e}.gate_proj.weight"] = new ExpertUpdate(adapter, keyA, keyB, e, r, experts, config.Lora.Scaling, 0, inner);
                        plan.Weights[$"{path}.{e}.up_proj.weight"] = new ExpertUpdate(adapter, keyA, keyB, e, r, experts, config.Lora.Scaling, inner, inner);
                    }
                    else plan.Weights[$"{path}.{e}.down_proj.weight"] = new ExpertUpdate(adapter, keyA, keyB, e, r, experts, config.Lora.Scaling, 0, outFeatures);
                }
            }
        }
        if (plan.Keys.Count == 0)
            throw new InvalidDataException(
                $"{weightsPath}: target_parameters [{string.Join(", ", config.Lora.TargetParameters)}] matches no expert tensor of {baseDir}");
        return plan;
    }
}

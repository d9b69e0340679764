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
/// safetensors writer's producers, so host memory stays near one tensor, never the model.
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

        // module path -> (A key, B key), checked against the base's weights before anything is written.
        var modules = new SortedDictionary<string, (string A, string B)>(StringComparer.Ordinal);
        foreach (var entry in adapter.Entries)
        {
            var parsed = AdapterKeys.Parse(entry.Name)
                ?? throw new InvalidDataException($"{weightsPath}: key '{entry.Name}' is not a LoRA weight");
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
}

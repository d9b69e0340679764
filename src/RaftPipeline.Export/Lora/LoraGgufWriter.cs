using System.Text.Json;
using RaftPipeline.Export.Gguf;
using RaftPipeline.Export.Quantization;
using RaftPipeline.Export.Source;

namespace RaftPipeline.Export.Lora;

/// <summary>
/// A peft LoRA adapter folder as a llama.cpp LoRA adapter (convert_lora_to_gguf.py; loaded by llama_adapter_lora_init):
/// general.type = adapter, adapter.type = lora, adapter.lora.alpha; for every adapted base weight W (GGUF name N) the
/// tensors N.lora_a = A [r, in] and N.lora_b = B [out, r] in F32. llama.cpp adds scale·B·(A·x) with scale = alpha / r
/// (times the user's scale), as peft does. B's rows are the base weight's output rows, so they get the same row changes
/// as the base weight (<see cref="GgufArchitecture.TransformLoraB"/>): llama's q/k permutation, as convert_lora_to_gguf
/// does, and Gemma's query scale.
/// </summary>
public static class LoraGgufWriter
{
    public sealed record Result(string Path, int Rank, double Alpha, IReadOnlyList<string> Tensors);

    /// <summary>Reads and checks the adapter; the returned function writes the file. Nothing is written on refusal.</summary>
    public static Func<Result> Prepare(string adapterFolder, GgufArchitecture architecture, string outputPath, string name)
    {
        var configPath = System.IO.Path.Combine(adapterFolder, "adapter_config.json");
        if (!File.Exists(configPath)) throw new ExportException(configPath, "not found (expected a peft adapter folder)");
        int rank;
        double alpha;
        bool rslora;
        using (var doc = JsonDocument.Parse(File.ReadAllText(configPath)))
        {
            var root = doc.RootElement;
            if (root.TryGetProperty("peft_type", out var pt) && pt.GetString() is { } peftType && peftType != "LORA")
                throw new ExportException(configPath, $"peft_type '{peftType}' cannot be exported (only LORA)");
            rank = root.TryGetProperty("r", out var r) ? r.GetInt32() : throw new ExportException(configPath, "\"r\" is missing");
            alpha = root.TryGetProperty("lora_alpha", out var a) ? a.GetDouble() : rank;
            rslora = root.TryGetProperty("use_rslora", out var rs) && rs.ValueKind == JsonValueKind.True;
            foreach (var key in new[] { "alpha_pattern", "rank_pattern" })
                if (root.TryGetProperty(key, out var p) && p.ValueKind == JsonValueKind.Object && p.EnumerateObject().Any())
                    throw new ExportException(configPath, $"\"{key}\" is set: llama.cpp adapters carry one alpha and rank per file");
            if (root.TryGetProperty("use_dora", out var dora) && dora.ValueKind == JsonValueKind.True)
                throw new ExportException(configPath, "DoRA adapters cannot be exported (llama.cpp applies plain LoRA)");
        }
        // llama.cpp scales by alpha / r; rsLoRA scales by alpha / sqrt(r): write the alpha that gives the same scale.
        double ggufAlpha = rslora ? alpha * Math.Sqrt(rank) : alpha;

        var tensors = SafetensorsTensors.Open(System.IO.Path.Combine(adapterFolder, "adapter_model.safetensors"));
        var modules = new SortedDictionary<string, (string? A, string? B)>(StringComparer.Ordinal);
        foreach (var e in tensors.Entries)
        {
            var parsed = ParseKey(e.Name) ?? throw new ExportException(e.File, $"tensor '{e.Name}' is not a LoRA A/B weight (modules_to_save and bias training cannot be exported)");
            var slot = modules.GetValueOrDefault(parsed.Module);
            modules[parsed.Module] = parsed.Matrix == "A" ? (e.Name, slot.B) : (slot.A, e.Name);
        }
        var plans = new List<GgufTensorPlan>();
        foreach (var (module, (keyA, keyB)) in modules.OrderBy(m => LayerIndex(m.Key)).ThenBy(m => m.Key, StringComparer.Ordinal))
        {
            if (keyA is null || keyB is null) throw new ExportException(adapterFolder, $"module '{module}' has only one of lora_A / lora_B");
            if (module.EndsWith("embed_tokens", StringComparison.Ordinal) || module.EndsWith("lm_head", StringComparison.Ordinal))
                throw new ExportException(adapterFolder, $"module '{module}': llama.cpp adapters cannot adapt the embeddings or the output head");
            var baseName = architecture.GgufWeightName(module);
            var a = tensors.Get(keyA);
            var b = tensors.Get(keyB);
            if (a.Shape.Length != 2 || b.Shape.Length != 2 || a.Shape[0] != rank || b.Shape[1] != rank)
                throw new ExportException(adapterFolder, $"module '{module}': A [{string.Join(", ", a.Shape)}] and B [{string.Join(", ", b.Shape)}] do not have rank {rank}");
            plans.Add(new GgufTensorPlan(baseName + ".lora_a", a.Shape, GgmlType.F32, () => FloatFormats.ToF32(tensors.ReadFloats(keyA))));
            plans.Add(new GgufTensorPlan(baseName + ".lora_b", b.Shape, GgmlType.F32, () =>
            {
                return FloatFormats.ToF32(architecture.TransformLoraB(baseName, tensors.ReadFloats(keyB), rank));
            }));
        }
        if (plans.Count == 0) throw new ExportException(adapterFolder, "holds no LoRA weights");
        var metadata = new List<KeyValuePair<string, GgufValue>>
        {
            new("general.architecture", GgufValue.Str(architecture.Name)),
            new("general.type", GgufValue.Str("adapter")),
            new("general.name", GgufValue.Str(name)),
            new("adapter.type", GgufValue.Str("lora")),
            new("adapter.lora.alpha", GgufValue.F32((float)ggufAlpha)),
        };
        return () =>
        {
            GgufWriter.Write(outputPath, metadata, plans);
            return new Result(outputPath, rank, ggufAlpha, plans.Select(p => p.Name).ToList());
        };
    }

    /// <summary>peft keys: base_model.model.{module}.lora_A.weight (or .lora_A.default.weight).</summary>
    static (string Module, string Matrix)? ParseKey(string key)
    {
        const string prefix = "base_model.model.";
        if (!key.StartsWith(prefix, StringComparison.Ordinal)) return null;
        foreach (var m in new[] { "A", "B" })
            foreach (var suffix in new[] { $".lora_{m}.weight", $".lora_{m}.default.weight" })
                if (key.EndsWith(suffix, StringComparison.Ordinal))
                    return (key[prefix.Length..^suffix.Length], m);
        return null;
    }

    static int LayerIndex(string module)
    {
        var parts = module.Split('.');
        int i = Array.IndexOf(parts, "layers");
        return i >= 0 && i + 1 < parts.Length && int.TryParse(parts[i + 1], out var n) ? n : -1;
    }
}

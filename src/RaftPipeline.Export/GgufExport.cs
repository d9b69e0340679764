using System.Security.Cryptography;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using RaftPipeline.Export.Gguf;
using RaftPipeline.Export.Lora;
using RaftPipeline.Export.Ollama;
using RaftPipeline.Export.Source;
using RaftPipeline.Export.Tokenizer;

namespace RaftPipeline.Export;

/// <summary>What to export: a Hugging Face model folder as one GGUF of <see cref="Type"/>, and optionally a peft adapter
/// kept apart as a LoRA GGUF (the Modelfile then names it in ADAPTER).</summary>
public sealed record GgufExportRequest(string ModelFolder, string OutputFolder, GgufFileType Type)
{
    public string? AdapterFolder { get; init; }
    /// <summary>general.name and the file names' stem; absent: the model folder's name.</summary>
    public string? Name { get; init; }
}

public sealed record GgufExportResult(string ModelPath, string? AdapterPath, string ModelfilePath, string ManifestPath, JsonObject Manifest);

/// <summary>
/// Writes a model folder (and an adapter) out for llama.cpp and Ollama: NAME-TYPE.gguf, NAME-lora.gguf, Modelfile and
/// export.json (the files, their sha256, and every choice: architecture, pre-tokenizer, each tensor's type, the chat
/// format of the TEMPLATE). Everything that could make the export wrong (family, type, tokenizer) is checked before
/// the first byte is written.
/// </summary>
public static partial class GgufExport
{
    public const string ManifestFileName = "export.json";
    public const string ModelfileFileName = "Modelfile";

    public static GgufExportResult Run(GgufExportRequest request)
    {
        var config = ExportModelConfig.ReadFolder(request.ModelFolder);
        var architecture = GgufArchitecture.For(config);
        var tokenizer = GgufTokenizer.FromFolder(request.ModelFolder, config);
        var tensors = SafetensorsTensors.Open(request.ModelFolder);
        var name = Sanitize(request.Name ?? Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(request.ModelFolder))));
        CheckName(name, request.Name is null ? request.ModelFolder : "name");
        var plans = PlanTensors(architecture, tensors, request.Type);
        var writeLora = request.AdapterFolder is null ? null
            : LoraGgufWriter.Prepare(request.AdapterFolder, architecture, Path.Combine(request.OutputFolder, $"{name}-lora.gguf"), name + "-lora");

        Directory.CreateDirectory(request.OutputFolder);
        var typeName = GgufFileTypes.Name(request.Type);
        var modelPath = Path.Combine(request.OutputFolder, $"{name}-{typeName}.gguf");
        var metadata = new List<KeyValuePair<string, GgufValue>>
        {
            new("general.architecture", GgufValue.Str(architecture.Name)),
            new("general.type", GgufValue.Str("model")),
            new("general.name", GgufValue.Str(name)),
            new("general.file_type", GgufValue.U32(GgufFileTypes.LlamaFileType(request.Type))),
            new("general.quantization_version", GgufValue.U32(2)),
        };
        metadata.AddRange(architecture.Metadata());
        metadata.AddRange(tokenizer.Metadata());
        GgufWriter.Write(modelPath, metadata, plans);

        var lora = writeLora?.Invoke();

        var template = tokenizer.ChatTemplates.FirstOrDefault(t => t.Name == "default").Template;
        // generate() stops at generation_config.json's eos ids (Llama 3 Instruct lists three), config.json's otherwise.
        var eosTexts = config.EosTokenIds.Concat(GenerationEosIds(request.ModelFolder)).Concat(tokenizer.EosId is { } e ? [e] : [])
            .Where(id => id >= 0 && id < tokenizer.Tokens.Count).Select(id => tokenizer.Tokens[id]).Distinct().ToList();
        var modelfile = ModelfileWriter.Build("./" + Path.GetFileName(modelPath), lora is null ? null : "./" + Path.GetFileName(lora.Path),
            template, eosTexts, request.ModelFolder);
        var modelfilePath = Path.Combine(request.OutputFolder, ModelfileFileName);
        File.WriteAllText(modelfilePath, modelfile.Text);

        var manifest = new JsonObject
        {
            ["format"] = "gguf",
            ["gguf_version"] = (int)GgufWriter.Version,
            ["alignment"] = GgufWriter.DefaultAlignment,
            ["architecture"] = architecture.Name,
            ["name"] = name,
            ["type"] = typeName,
            ["file_type"] = GgufFileTypes.LlamaFileType(request.Type),
            ["model"] = FileEntry(modelPath),
            ["model_type"] = config.ModelType,
            ["qk_permuted"] = architecture.PermutesQueryKey,
            ["norm_weight_offset"] = architecture.Family.NormWeightOffset,
            ["query_scale"] = architecture.Family.QueryScale(config),
            ["context_length"] = architecture.Family.ContextLength(config),
            ["rope"] = config.Rope.Type,
            ["note"] = architecture.Family.Note(config),
            ["tokenizer"] = new JsonObject
            {
                ["model"] = tokenizer.Model,
                ["pre"] = tokenizer.Pre,
                ["tokens"] = tokenizer.Tokens.Count,
                ["merges"] = tokenizer.Merges.Count,
                ["add_space_prefix"] = tokenizer.AddSpacePrefix,
                ["note"] = tokenizer.Note,
                ["bos_token_id"] = tokenizer.BosId,
                ["eos_token_id"] = tokenizer.EosId,
                ["padding_token_id"] = tokenizer.PadId,
                ["add_bos_token"] = tokenizer.AddBos,
                ["add_eos_token"] = tokenizer.AddEos,
                ["chat_templates"] = new JsonArray(tokenizer.ChatTemplates.Select(t => (JsonNode)t.Name).ToArray()),
            },
            ["tensor_types"] = new JsonObject(plans.Select(p => KeyValuePair.Create(p.Name, (JsonNode?)GgmlTypes.Name(p.Type)))),
            ["type_counts"] = new JsonObject(plans.GroupBy(p => GgmlTypes.Name(p.Type)).OrderBy(g => g.Key, StringComparer.Ordinal)
                .Select(g => KeyValuePair.Create(g.Key, (JsonNode?)g.Count()))),
            ["modelfile"] = new JsonObject
            {
                ["path"] = ModelfileFileName,
                ["template"] = modelfile.Format switch
                {
                    ModelfileWriter.ChatFormat.ChatMl => "chatml",
                    ModelfileWriter.ChatFormat.Llama3 => "llama3",
                    ModelfileWriter.ChatFormat.Gemma => "gemma",
                    ModelfileWriter.ChatFormat.Phi3 => "phi3",
                    _ => null,
                },
                ["stop"] = new JsonArray(modelfile.Stops.Select(s => (JsonNode)s).ToArray()),
                ["parameters"] = new JsonObject(modelfile.Parameters.Select(p => KeyValuePair.Create(p.Key, (JsonNode?)p.Value))),
            },
        };
        if (lora is not null)
        {
            var entry = FileEntry(lora.Path);
            entry["rank"] = lora.Rank;
            entry["alpha"] = lora.Alpha;
            entry["tensors"] = lora.Tensors.Count;
            manifest["adapter"] = entry;
        }
        var manifestPath = Path.Combine(request.OutputFolder, ManifestFileName);
        File.WriteAllText(manifestPath, manifest.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }) + "\n");
        return new GgufExportResult(modelPath, lora?.Path, modelfilePath, manifestPath, manifest);
    }

    /// <summary>Checks a request without writing: family, tokenizer, tensor names and shapes, and the GGUF name when given. Throws <see cref="ExportException"/>.</summary>
    public static void Check(string modelFolder, GgufFileType type, string? name = null)
    {
        if (name is not null) CheckName(Sanitize(name), "name");
        var config = ExportModelConfig.ReadFolder(modelFolder);
        var architecture = GgufArchitecture.For(config);
        _ = GgufTokenizer.FromFolder(modelFolder, config);
        _ = PlanTensors(architecture, SafetensorsTensors.Open(modelFolder), type);
    }

    static List<GgufTensorPlan> PlanTensors(GgufArchitecture architecture, SafetensorsTensors tensors, GgufFileType type)
    {
        var named = new List<(string Gguf, SafetensorsTensors.Entry Entry)>();
        var experts = new Dictionary<string, SortedDictionary<int, SafetensorsTensors.Entry>>(StringComparer.Ordinal);
        foreach (var e in tensors.Entries)
            if (architecture.ExpertPart(e.Name) is { } part)
            {
                if (!experts.TryGetValue(part.Name, out var parts)) experts[part.Name] = parts = [];
                parts[part.Expert] = e;
            }
            else if (architecture.GgufName(e.Name) is { } gguf) named.Add((gguf, e));
        var config = architecture.Config;
        bool hasOutput = named.Any(n => n.Gguf == "output.weight");
        if (!config.TieWordEmbeddings && !hasOutput)
            throw new ExportException("lm_head.weight", "missing, and config.json does not tie the embeddings");
        if (!named.Any(n => n.Gguf == "token_embd.weight")) throw new ExportException("model.embed_tokens.weight", "missing");
        var chooser = new TensorTypeChooser(type, config.NumHiddenLayers, hasOutput, config.ExpertCount ?? 0);
        var plans = new List<GgufTensorPlan>();
        foreach (var (name, shape, values) in architecture.ComputedTensors())
            plans.Add(new GgufTensorPlan(name, shape, GgmlType.F32, () => GgufFileTypes.Encode(GgmlType.F32, values)));
        var ordered = named.Select(n => (n.Gguf, Sources: (IReadOnlyList<SafetensorsTensors.Entry>)[n.Entry], n.Entry.Shape))
            .Concat(experts.Select(x => (Gguf: x.Key, Sources: StackedExperts(x.Key, x.Value, config), Shape: (long[])[x.Value.Count, .. x.Value[0].Shape])))
            .OrderBy(n => SortKey(n.Gguf)).ThenBy(n => n.Gguf, StringComparer.Ordinal);
        foreach (var (gguf, sources, shape) in ordered)
        {
            var ggmlType = chooser.Choose(gguf, shape);
            plans.Add(new GgufTensorPlan(gguf, shape, ggmlType,
                () => GgufFileTypes.Encode(ggmlType, architecture.TransformWeight(gguf, shape, ReadAll(tensors, sources)))));
        }
        return plans;
    }

    /// <summary>The per-expert weights of one stacked tensor, in expert order (convert_hf_to_gguf stacks them, expert index
    /// first): every expert 0 … expert_count - 1 present, all of one shape.</summary>
    static IReadOnlyList<SafetensorsTensors.Entry> StackedExperts(string gguf, SortedDictionary<int, SafetensorsTensors.Entry> parts, ExportModelConfig config)
    {
        int count = config.ExpertCount ?? 0;
        var first = parts.Values.First();
        if (parts.Count != count || parts.Keys.Last() != count - 1)
            throw new ExportException(first.Name, $"{gguf}: found {parts.Count} experts (indices {parts.Keys.First()} to {parts.Keys.Last()}), " +
                $"config.json says {count}; every expert 0 to {count - 1} must be present");
        foreach (var e in parts.Values)
            if (!e.Shape.SequenceEqual(first.Shape))
                throw new ExportException(e.Name, $"shape [{string.Join(", ", e.Shape)}] differs from {first.Name}'s [{string.Join(", ", first.Shape)}]");
        return [.. parts.Values];
    }

    static float[] ReadAll(SafetensorsTensors tensors, IReadOnlyList<SafetensorsTensors.Entry> sources)
    {
        if (sources.Count == 1) return tensors.ReadFloats(sources[0].Name);
        var parts = sources.Select(s => tensors.ReadFloats(s.Name)).ToList();
        var all = new float[parts.Sum(p => (long)p.Length)];
        long at = 0;
        foreach (var p in parts) { Array.Copy(p, 0, all, at, p.Length); at += p.Length; }
        return all;
    }

    /// <summary>token_embd, the blocks in order, output_norm, output: the order convert_hf_to_gguf usually writes.</summary>
    static (int, int) SortKey(string name) => name switch
    {
        "token_embd.weight" => (0, 0),
        "output_norm.weight" => (2, 0),
        "output.weight" => (3, 0),
        _ when name.StartsWith("blk.", StringComparison.Ordinal) => (1, int.Parse(name.AsSpan(4, name.IndexOf('.', 4) - 4))),
        _ => (4, 0),
    };

    static IReadOnlyList<int> GenerationEosIds(string folder)
    {
        var path = Path.Combine(folder, "generation_config.json");
        if (!File.Exists(path)) return [];
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(path));
            return new ConfigJson(path, doc.RootElement).IntOrIntList("eos_token_id");
        }
        catch (JsonException e)
        {
            throw new ExportException(path, $"not valid JSON: {e.Message}");
        }
    }

    /// <summary>
    /// llama.cpp keys one tokenizer quirk on general.name, not on the tokenizer (llama-vocab.cpp: a model name containing
    /// "phi3" or "phi-3" gets Phi-3's SentencePiece behaviour: whitespace right-stripped after every special token, and
    /// "&lt;/s&gt;", "&lt;unk&gt;" looked up by text, failing the load when absent). The byte-level tokenizers export writes
    /// would then tokenize differently from the model's training, so such a name is refused before anything is written.
    /// </summary>
    static void CheckName(string name, string source)
    {
        if (name.Contains("phi3", StringComparison.OrdinalIgnoreCase) || name.Contains("phi-3", StringComparison.OrdinalIgnoreCase))
            throw new ExportException(source, $"the GGUF name '{name}' contains 'phi3' or 'phi-3', for which llama.cpp applies Phi-3's " +
                "SentencePiece tokenizer quirks (whitespace stripped after special tokens) to any tokenizer; choose another name " +
                "(raft export --name, or the export stage's name parameter)");
    }

    static JsonObject FileEntry(string path)
    {
        using var stream = File.OpenRead(path);
        return new JsonObject
        {
            ["path"] = Path.GetFileName(path),
            ["bytes"] = stream.Length,
            ["sha256"] = Convert.ToHexStringLower(SHA256.HashData(stream)),
        };
    }

    [GeneratedRegex(@"[^A-Za-z0-9._-]+")]
    private static partial Regex Unsafe();

    static string Sanitize(string name)
    {
        var s = Unsafe().Replace(name, "-").Trim('-', '.');
        return s.Length == 0 ? "model" : s;
    }
}

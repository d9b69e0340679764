using System.Text.Json;
using System.Text.Json.Nodes;
using RaftPipeline.Modeling.Lora;

namespace RaftPipeline.Modeling.Adapters;

/// <summary>
/// adapter_config.json as peft 0.21 writes it for LoRA (LoraConfig.to_dict through save_pretrained; compare
/// Fixtures/peft_interop/adapter/adapter_config.json, written by peft 0.21.0). peft fills absent keys with defaults,
/// so we write the fields that matter for a plain LoRA plus the common nulls, but no "peft_version" (we are not
/// peft), and read the ones that change the math.
/// </summary>
public sealed record AdapterConfig
{
    public const string FileName = "adapter_config.json";

    public required LoraConfig Lora { get; init; }
    public string? BaseModelNameOrPath { get; init; }
    /// <summary>The target_modules value as written: a list of names, or a string (regex or "all-linear"); null with only target_parameters.</summary>
    public required JsonNode? TargetModules { get; init; }

    /// <param name="expertModel">
    /// The model has mixture-of-experts layers: target_modules names that selected nothing are left out, as peft on
    /// transformers 5.x would read gate_proj/up_proj/down_proj there as the experts (LoraInjector refuses them where
    /// they select a dense MLP).
    /// </param>
    public static AdapterConfig From(LoraConfig lora, string? baseModel, IReadOnlyList<string>? wrappedPaths = null, bool expertModel = false)
    {
        JsonNode? targets;
        if (lora.Targets.Names is { Count: 0 }) targets = null;
        else if (lora.Targets.Pattern is not null) targets = JsonValue.Create(lora.Targets.Pattern)!;
        else if (lora.Targets.Names is not null)
        {
            var names = lora.Targets.Names.AsEnumerable();
            if (expertModel)
            {
                var wrapped = wrappedPaths ?? throw new ArgumentException("a mixture-of-experts adapter needs the wrapped module paths to be saved");
                names = names.Where(n => wrapped.Any(p => p == n || p.EndsWith("." + n, StringComparison.Ordinal)));
            }
            targets = new JsonArray(names.Select(n => (JsonNode)JsonValue.Create(n)!).ToArray());
        }
        else
        {
            // peft expands "all-linear" to the matched modules before saving; it writes their leaf names.
            var leaves = (wrappedPaths ?? throw new ArgumentException("all-linear needs the wrapped module paths to be saved"))
                .Where(p => !ExpertLora.ParameterNames.Any(e => p.EndsWith(".experts." + e, StringComparison.Ordinal))) // target_parameters, not modules
                .Select(p => p[(p.LastIndexOf('.') + 1)..]).Distinct().OrderBy(n => n, StringComparer.Ordinal);
            targets = new JsonArray(leaves.Select(n => (JsonNode)JsonValue.Create(n)!).ToArray());
        }
        return new AdapterConfig { Lora = lora, BaseModelNameOrPath = baseModel, TargetModules = targets };
    }

    public string ToJson()
    {
        var o = new JsonObject
        {
            ["alpha_pattern"] = new JsonObject(),
            ["auto_mapping"] = null,
            ["base_model_name_or_path"] = BaseModelNameOrPath,
            ["bias"] = "none",
            ["exclude_modules"] = null,
            ["fan_in_fan_out"] = false,
            ["inference_mode"] = true,
            ["init_lora_weights"] = Lora.Init switch
            {
                LoraInit.Kaiming => JsonValue.Create(true),
                LoraInit.Gaussian => JsonValue.Create("gaussian"),
                _ => JsonValue.Create(false),
            },
            ["layer_replication"] = null,
            ["layers_pattern"] = null,
            ["layers_to_transform"] = null,
            ["lora_alpha"] = Lora.Alpha == Math.Floor(Lora.Alpha) ? JsonValue.Create((long)Lora.Alpha) : JsonValue.Create(Lora.Alpha),
            ["lora_bias"] = false,
            ["lora_dropout"] = Lora.Dropout,
            ["modules_to_save"] = null,
            ["peft_type"] = "LORA",
            ["r"] = Lora.R,
            ["rank_pattern"] = new JsonObject(),
            ["revision"] = null,
            ["target_modules"] = TargetModules?.DeepClone(),
            ["target_parameters"] = Lora.TargetParameters.Count == 0 ? null
                : new JsonArray(Lora.TargetParameters.Select(t => (JsonNode)JsonValue.Create(t)!).ToArray()),
            ["task_type"] = "CAUSAL_LM",
            ["trainable_token_indices"] = null,
            ["use_dora"] = false,
            ["use_qalora"] = false,
            ["use_rslora"] = Lora.UseRslora,
        };
        return o.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    /// <summary>Reads and validates; refuses what we cannot reproduce (DoRA, patterns, bias, fan_in_fan_out, modules_to_save, layer selection).</summary>
    public static AdapterConfig Read(string path)
    {
        JsonNode? root;
        try { root = JsonNode.Parse(File.ReadAllText(path)); }
        catch (JsonException e) { throw new InvalidDataException($"{path}: not valid JSON: {e.Message}", e); }
        if (root is not JsonObject o) throw new InvalidDataException($"{path}: expected a JSON object");

        T Get<T>(string key, T fallback)
        {
            if (!o.TryGetPropertyValue(key, out var v) || v is null) return fallback;
            try { return v.GetValue<T>(); }
            catch (Exception e) when (e is FormatException or InvalidOperationException)
            { throw new InvalidDataException($"{path}: \"{key}\" is {v.ToJsonString()}, expected a {typeof(T).Name}", e); }
        }
        void Refuse(string key, bool bad, string expected)
        {
            if (bad) throw new InvalidDataException($"{path}: \"{key}\" is {o[key]?.ToJsonString()}, expected {expected} (not supported)");
        }

        var peftType = Get("peft_type", "LORA");
        Refuse("peft_type", peftType != "LORA", "\"LORA\"");
        Refuse("use_dora", Get("use_dora", false), "false");
        Refuse("fan_in_fan_out", Get("fan_in_fan_out", false), "false");
        Refuse("bias", Get("bias", "none") != "none", "\"none\"");
        Refuse("rank_pattern", o["rank_pattern"] is JsonObject rp && rp.Count > 0, "{}");
        Refuse("alpha_pattern", o["alpha_pattern"] is JsonObject ap && ap.Count > 0, "{}");
        Refuse("lora_bias", Get("lora_bias", false), "false");
        // Options that change which modules peft adapts or replaces; read as absent they would load or merge an adapter
        // other than the one peft builds from this file.
        static bool Given(JsonNode? n) => n switch { null => false, JsonArray a => a.Count > 0, JsonObject m => m.Count > 0, _ => true };
        Refuse("modules_to_save", Given(o["modules_to_save"]), "null (whole modules trained beside the adapter)");
        Refuse("layers_to_transform", Given(o["layers_to_transform"]), "null (every layer)");
        Refuse("layers_pattern", Given(o["layers_pattern"]), "null");
        Refuse("exclude_modules", Given(o["exclude_modules"]), "null");
        Refuse("layer_replication", Given(o["layer_replication"]), "null");

        var targetParameters = o["target_parameters"] switch
        {
            null => [],
            JsonArray a when a.All(n => n is JsonValue v && v.TryGetValue<string>(out _)) => a.Select(n => n!.GetValue<string>()).ToList(),
            var other => throw new InvalidDataException($"{path}: \"target_parameters\" is {other.ToJsonString()}, expected a list of parameter names or null"),
        };
        var targetsNode = o["target_modules"];
        if (targetsNode is null && targetParameters.Count == 0)
            throw new InvalidDataException($"{path}: \"target_modules\" is missing (and no \"target_parameters\" either)");
        LoraTargets targets = targetsNode switch
        {
            null => LoraTargets.NoModules(),
            JsonArray a => LoraTargets.FromNames(a.Select(n => n!.GetValue<string>()).ToArray()),
            JsonValue v when v.TryGetValue<string>(out var s) => LoraTargets.FromString(s),
            _ => throw new InvalidDataException($"{path}: \"target_modules\" is {targetsNode.ToJsonString()}, expected a list of names or a string"),
        };
        var init = o["init_lora_weights"] switch
        {
            JsonValue v when v.TryGetValue<bool>(out var b) => b ? LoraInit.Kaiming : LoraInit.Random,
            JsonValue v when v.TryGetValue<string>(out var s) && s == "gaussian" => LoraInit.Gaussian,
            null => LoraInit.Kaiming,
            var other => throw new InvalidDataException($"{path}: \"init_lora_weights\" is {other.ToJsonString()}, expected true, false or \"gaussian\""),
        };
        var lora = new LoraConfig
        {
            R = Get("r", 8),
            Alpha = Get("lora_alpha", 8.0),
            Dropout = Get("lora_dropout", 0.0),
            UseRslora = Get("use_rslora", false),
            Targets = targets,
            TargetParameters = targetParameters,
            Init = init,
        };
        return new AdapterConfig { Lora = lora, BaseModelNameOrPath = Get<string?>("base_model_name_or_path", null), TargetModules = targetsNode?.DeepClone() };
    }
}

using System.Text.RegularExpressions;

namespace RaftPipeline.Hub;

/// <summary>
/// The files of a repository this tool reads from a model or adapter folder, and nothing else (no .bin or .pth
/// weights, no original/ or onnx/ copies): what transformers' from_pretrained fetches for a safetensors model, the
/// chat template, and peft's adapter files. Top-level files only.
/// </summary>
public static partial class ModelFiles
{
    static readonly HashSet<string> Named = new(StringComparer.Ordinal)
    {
        "config.json", "generation_config.json",
        "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "added_tokens.json",
        "chat_template.jinja", "chat_template.json",
        "model.safetensors.index.json",
        "adapter_config.json", "adapter_model.safetensors",
    };

    public static bool IsNeeded(string path) =>
        !path.Contains('/') && (Named.Contains(path) || ShardPattern().IsMatch(path));

    /// <summary>
    /// What is wrong with a selection as a model or adapter folder (no config, no weights); null when it is one.
    /// </summary>
    public static string? Problem(IReadOnlyCollection<string> selected)
    {
        var isAdapter = selected.Contains("adapter_config.json");
        if (!isAdapter && !selected.Contains("config.json"))
            return "it has neither config.json nor adapter_config.json at its top level";
        var weights = isAdapter ? selected.Contains("adapter_model.safetensors") : selected.Any(ShardPattern().IsMatch);
        return weights ? null : $"it has no {(isAdapter ? "adapter_model.safetensors" : "model*.safetensors")} (this tool reads safetensors weights only)";
    }

    /// <summary>The shard files <c>model.safetensors.index.json</c> in <paramref name="folder"/> names (none without an index).</summary>
    public static IReadOnlyList<string> ShardsOfIndex(string folder)
    {
        var index = Path.Combine(folder, "model.safetensors.index.json");
        if (!File.Exists(index)) return [];
        try
        {
            using var json = System.Text.Json.JsonDocument.Parse(File.ReadAllBytes(index));
            return json.RootElement.TryGetProperty("weight_map", out var map) && map.ValueKind == System.Text.Json.JsonValueKind.Object
                ? map.EnumerateObject().Select(p => p.Value.GetString()).OfType<string>().Distinct().Order(StringComparer.Ordinal).ToList()
                : [];
        }
        catch (System.Text.Json.JsonException e)
        {
            throw new HubException(HubErrorKind.NotCached, $"{index} is not valid JSON: {e.Message}");
        }
    }

    // model.safetensors or model-00001-of-00002.safetensors (not consolidated.safetensors, a duplicate some repos ship).
    [GeneratedRegex(@"^model(-\d+-of-\d+)?\.safetensors$")]
    private static partial Regex ShardPattern();
}

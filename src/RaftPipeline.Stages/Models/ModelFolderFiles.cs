using System.Text.Json;
using System.Text.Json.Nodes;
using RaftPipeline.Modeling.Merge;

namespace RaftPipeline.Stages.Models;

/// <summary>
/// The non-weight files of a Hugging Face model folder that travel with it from stage to stage: the tokenizer and
/// chat template (so any model slot can render and count text) and generation_config.json (stop tokens).
/// </summary>
public static class ModelFolderFiles
{
    public const string GenerationConfig = "generation_config.json";

    /// <summary>Tokenizer, chat-template and generation files, in <see cref="AdapterMerger.TokenizerFiles"/> order, then generation_config.json.</summary>
    public static IReadOnlyList<string> Names { get; } = [.. AdapterMerger.TokenizerFiles, GenerationConfig];

    /// <summary>Copies every file of <see cref="Names"/> that <paramref name="from"/> has; returns the names copied.</summary>
    public static IReadOnlyList<string> Copy(string from, string to)
    {
        Directory.CreateDirectory(to);
        var copied = new List<string>();
        foreach (var name in Names)
        {
            var source = Path.Combine(from, name);
            if (!File.Exists(source)) continue;
            File.Copy(source, Path.Combine(to, name), overwrite: true);
            copied.Add(name);
        }
        return copied;
    }

    /// <summary>Reads a JSON object file, naming the file in every error.</summary>
    public static JsonObject ReadObject(string path)
    {
        JsonNode? root;
        try { root = JsonNode.Parse(File.ReadAllText(path)); }
        catch (JsonException e) { throw new InvalidDataException($"{path}: not valid JSON: {e.Message}", e); }
        return root as JsonObject ?? throw new InvalidDataException($"{path}: expected a JSON object, got {root?.ToJsonString() ?? "null"}");
    }

    public static void WriteObject(string path, JsonObject value) =>
        File.WriteAllText(path, value.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
}

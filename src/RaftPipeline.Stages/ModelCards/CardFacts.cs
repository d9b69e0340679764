using System.Text.Json.Nodes;
using RaftPipeline.Stages.Models;

namespace RaftPipeline.Stages.ModelCards;

/// <summary>
/// What a model card says, read from the files the pipeline leaves beside an adapter: adapter_config.json (LoRA
/// hyperparameters), train_summary.json and data_files.json (written by the train stage), and an eval stage's
/// eval.json. Every file but adapter_config.json is optional: its section is left out when it is absent.
/// </summary>
public sealed record CardFacts
{
    public const string DataFilesFile = "data_files.json";
    public const string TrainSummaryFile = "train_summary.json";
    public const string EvalFile = "eval.json";

    /// <summary>Hub id or name of the base model.</summary>
    public required string BaseModel { get; init; }
    public required JsonObject AdapterConfig { get; init; }
    public JsonObject? TrainSummary { get; init; }
    public JsonArray? DataFiles { get; init; }
    public JsonObject? Eval { get; init; }
    /// <summary>The file <see cref="Eval"/> was read from, for error messages.</summary>
    public string? EvalPath { get; init; }
    /// <summary>The base model's license id (apache-2.0, ...) when its own card says it.</summary>
    public string? License { get; init; }

    /// <summary>True when <see cref="BaseModel"/> looks like a Hub id ("owner/name"), which the front matter may name.</summary>
    public bool BaseModelIsHubId =>
        BaseModel.Count(c => c == '/') == 1 && !BaseModel.StartsWith('/') && !BaseModel.EndsWith('/')
        && BaseModel.All(c => char.IsAsciiLetterOrDigit(c) || c is '/' or '-' or '_' or '.');

    /// <summary>
    /// Reads the facts for the adapter in <paramref name="adapterDir"/>. <paramref name="evalJson"/>: an eval.json
    /// file or an eval artifact folder holding one, or null. <paramref name="baseModelDir"/>: the base model folder
    /// whose README.md front matter may name a license, or null.
    /// </summary>
    /// <paramref name="baseModel"/>: the base model's Hub id or name; null: adapter_config.json's base_model_name_or_path.
    public static CardFacts Read(string adapterDir, string? baseModel = null, string? evalJson = null, string? baseModelDir = null)
    {
        var configPath = Path.Combine(adapterDir, Modeling.Adapters.AdapterConfig.FileName);
        if (!File.Exists(configPath)) throw new FileNotFoundException($"{adapterDir}: no {Modeling.Adapters.AdapterConfig.FileName}; expected a peft adapter folder", configPath);
        var summaryPath = Path.Combine(adapterDir, TrainSummaryFile);
        var dataPath = Path.Combine(adapterDir, DataFilesFile);
        if (evalJson is not null && Directory.Exists(evalJson)) evalJson = Path.Combine(evalJson, EvalFile);
        if (evalJson is not null && !File.Exists(evalJson)) throw new FileNotFoundException($"{evalJson}: missing: the eval stage writes its results there", evalJson);
        var config = ModelFolderFiles.ReadObject(configPath);
        baseModel ??= config["base_model_name_or_path"] is JsonValue v && v.TryGetValue<string>(out var named) && named.Length > 0
            ? named
            : throw new InvalidDataException($"{configPath}: \"base_model_name_or_path\" is not set; name the base model");
        return new CardFacts
        {
            BaseModel = baseModel,
            AdapterConfig = config,
            TrainSummary = File.Exists(summaryPath) ? ModelFolderFiles.ReadObject(summaryPath) : null,
            DataFiles = File.Exists(dataPath) ? ReadArray(dataPath) : null,
            Eval = evalJson is null ? null : ModelFolderFiles.ReadObject(evalJson),
            EvalPath = evalJson,
            License = baseModelDir is null ? null : ReadLicense(Path.Combine(baseModelDir, "README.md")),
        };
    }

    static JsonArray ReadArray(string path)
    {
        JsonNode? root;
        try { root = JsonNode.Parse(File.ReadAllText(path)); }
        catch (System.Text.Json.JsonException e) { throw new InvalidDataException($"{path}: not valid JSON: {e.Message}", e); }
        return root switch
        {
            JsonArray a => a,
            // files.json may also come wrapped: {"files": [...]}.
            JsonObject o when o["files"] is JsonArray a => a,
            _ => throw new InvalidDataException($"{path}: expected a JSON array of data files (or an object with \"files\")"),
        };
    }

    /// <summary>The "license:" line of a Hub README's YAML front matter, or null.</summary>
    public static string? ReadLicense(string readmePath)
    {
        if (!File.Exists(readmePath)) return null;
        var lines = File.ReadAllLines(readmePath);
        if (lines.Length == 0 || lines[0].Trim() != "---") return null;
        foreach (var line in lines.Skip(1))
        {
            if (line.Trim() == "---") break;
            if (line.StartsWith("license:", StringComparison.Ordinal))
                return line["license:".Length..].Trim().Trim('"', '\'') is { Length: > 0 } value ? value : null;
        }
        return null;
    }
}

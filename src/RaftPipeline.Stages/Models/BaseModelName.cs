namespace RaftPipeline.Stages.Models;

/// <summary>
/// The name a model folder goes by in adapter_config.json (base_model_name_or_path) and model cards: the repository id
/// of a Hugging Face cache snapshot (<c>org/name</c>, as peft writes it for a model from the Hub), else config.json's
/// "_name_or_path" when set (the model stage writes it; transformers reads and ignores it), else the folder's name
/// (a user's snapshot folder such as Qwen3-4B-Instruct-2507).
/// </summary>
public static class BaseModelName
{
    public const string ConfigKey = "_name_or_path";

    public static string Of(string modelDir)
    {
        if (RaftPipeline.Hub.Cache.HubCache.RepoIdOfSnapshot(modelDir) is { } repoId) return repoId;
        var configPath = Path.Combine(modelDir, "config.json");
        if (File.Exists(configPath)
            && ModelFolderFiles.ReadObject(configPath)[ConfigKey] is System.Text.Json.Nodes.JsonValue v
            && v.TryGetValue<string>(out var name) && name.Length > 0)
            return name;
        return Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(modelDir)));
    }

    /// <summary>Sets config.json's "_name_or_path" (after a writer that does not know it rewrote the file).</summary>
    public static void Write(string modelDir, string name)
    {
        var configPath = Path.Combine(modelDir, "config.json");
        var config = ModelFolderFiles.ReadObject(configPath);
        config[ConfigKey] = name;
        ModelFolderFiles.WriteObject(configPath, config);
    }
}

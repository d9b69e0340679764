namespace RaftPipeline.Modeling.Config;

/// <summary>A config.json that this tool cannot use; names the file and the key.</summary>
public sealed class ModelConfigException(string file, string key, string problem)
    : Exception($"{file}: '{key}': {problem}")
{
    public string File { get; } = file;
    public string Key { get; } = key;
    public string Problem { get; } = problem;
}

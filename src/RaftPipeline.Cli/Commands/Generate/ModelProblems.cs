using RaftPipeline.Modeling.Config;
using RaftPipeline.Modeling.Safetensors;
using RaftPipeline.Text.Templates;
using RaftPipeline.Text.Tokenization;

namespace RaftPipeline.Cli.Commands.Generate;

/// <summary>The input errors `generate` and `chat` share about the model and adapter folders.</summary>
internal static class ModelProblems
{
    /// <summary>A folder that is not there, named with its option; null when both exist.</summary>
    public static string? Check(string model, string? adapter)
    {
        if (!Directory.Exists(model)) return $"--model: folder not found: {model}";
        if (adapter is not null && !Directory.Exists(adapter)) return $"--adapter: folder not found: {adapter}";
        return null;
    }

    /// <summary>Exceptions loading throws for a folder whose files are missing or wrong; each message names the file.</summary>
    public static bool IsBadInput(Exception e) => e is FileNotFoundException or DirectoryNotFoundException
        or InvalidDataException or ModelConfigException or SafetensorsFormatException or TokenizerFormatException
        or ChatInputException or NotSupportedException;
}

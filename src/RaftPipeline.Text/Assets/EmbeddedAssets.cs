namespace RaftPipeline.Text.Assets;

/// <summary>Files shipped inside the tool: the real Qwen3 tokenizer (see Assets/Qwen3/SOURCE.md).</summary>
public static class EmbeddedAssets
{
    public static readonly IReadOnlyList<string> Qwen3TokenizerFiles = ["tokenizer.json", "tokenizer_config.json"];

    /// <summary>Opens one of <see cref="Qwen3TokenizerFiles"/>.</summary>
    public static Stream OpenQwen3(string fileName) =>
        typeof(EmbeddedAssets).Assembly.GetManifestResourceStream($"RaftPipeline.Text.Assets.Qwen3.{fileName}")
        ?? throw new FileNotFoundException($"no embedded Qwen3 asset named '{fileName}'");

    /// <summary>Writes the Qwen3 tokenizer files into <paramref name="directory"/> (created if needed).</summary>
    public static void WriteQwen3Tokenizer(string directory)
    {
        Directory.CreateDirectory(directory);
        foreach (var name in Qwen3TokenizerFiles)
        {
            using var source = OpenQwen3(name);
            using var target = File.Create(Path.Combine(directory, name));
            source.CopyTo(target);
        }
    }
}

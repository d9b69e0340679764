namespace RaftPipeline.Hub.Tests;

/// <summary>The files of the tiny Qwen3 the local Hub serves, plus files a model download must leave alone.</summary>
public static class TinyRepo
{
    public static string Folder => Path.Combine(AppContext.BaseDirectory, "Fixtures", "tiny-qwen3");

    /// <summary>What a model needs (config, index, two shards, tokenizer) and two files it does not (README, a .bin).</summary>
    public static Dictionary<string, byte[]> Files()
    {
        var files = Directory.EnumerateFiles(Folder).ToDictionary(p => Path.GetFileName(p), File.ReadAllBytes, StringComparer.Ordinal);
        files["README.md"] = "---\nlicense: apache-2.0\n---\n# tiny\n"u8.ToArray();
        files["pytorch_model.bin"] = new byte[4096];
        files["original/consolidated.pth"] = new byte[128];
        return files;
    }

    public static readonly string[] Needed =
    [
        "config.json", "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors",
        "model.safetensors.index.json", "tokenizer.json", "tokenizer_config.json",
    ];
}

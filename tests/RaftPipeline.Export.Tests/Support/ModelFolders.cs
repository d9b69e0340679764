using RaftPipeline.Modeling.Presets;

namespace RaftPipeline.Export.Tests.Support;

/// <summary>
/// The tiny models of every family the tool loads: the tool's own tiny preset (a Qwen3 with the real Qwen3 tokenizer
/// and chat template, written once per test run), and the transformers-written folders of
/// Fixtures/gguf_families (qwen3, qwen2, llama; see generate.py there), sized so k-quant blocks are really used.
/// </summary>
public static class ModelFolders
{
    static readonly Lazy<string> s_preset = new(() =>
    {
        var dir = Path.Combine(Path.GetTempPath(), $"raft-export-preset-{Environment.ProcessId}");
        if (!File.Exists(Path.Combine(dir, "config.json"))) TinyPreset.Write(dir, seed: 7);
        return dir;
    });

    public static string Preset => s_preset.Value;

    public static string Fixture(string family) => Path.Combine(AppContext.BaseDirectory, "Fixtures", "gguf_families", family);

    public static string Folder(string name) => name == "preset" ? Preset : Fixture(name);

    public static string NewTempDirectory(string tag)
    {
        var dir = Path.Combine(Path.GetTempPath(), $"raft-export-{tag}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        return dir;
    }
}

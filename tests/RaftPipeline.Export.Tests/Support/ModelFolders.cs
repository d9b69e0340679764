using RaftPipeline.Modeling.Presets;

namespace RaftPipeline.Export.Tests.Support;

/// <summary>
/// The model folders the export tests use: "preset", the tool's own tiny Qwen3 (the real Qwen3 tokenizer and chat
/// template, hidden 64), and "qwen3", "qwen2", "llama" from <see cref="TinyFamilies"/> (hidden 256, for the k-quants).
/// Each is built once per test run, and every export goes to a fresh temporary folder.
/// </summary>
public static class ModelFolders
{
    static readonly Lazy<string> s_preset = new(() =>
    {
        var dir = Path.Combine(Path.GetTempPath(), $"raft-export-preset-{Environment.ProcessId}");
        if (!File.Exists(Path.Combine(dir, "config.json"))) TinyPreset.Write(dir, seed: 7);
        return dir;
    });

    public static string Folder(string name) => name == "preset" ? s_preset.Value : TinyFamilies.Folder(name);

    public static string NewTempDirectory(string tag)
    {
        var dir = Path.Combine(Path.GetTempPath(), $"raft-export-{tag}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        return dir;
    }
}

using RaftPipeline.Modeling.Presets;

namespace RaftPipeline.Export.Tests.Support;

/// <summary>
/// The model folders the export tests use: "preset", the tool's own tiny Qwen3 (the real Qwen3 tokenizer and chat
/// template, hidden 64), and "qwen3", "qwen2", "llama" from <see cref="TinyFamilies"/> (hidden 256, for the k-quants).
/// Each is built once per test run, and every export goes to a fresh folder. Everything lives under one folder per
/// test process; exports run to tens of MB (the preset's F32 file is 40 MB), so the folders of processes that have
/// ended are removed when the next run starts (the test host does not always run exit handlers).
/// </summary>
public static class ModelFolders
{
    const string Prefix = "raft-export-tests-";

    static readonly Lazy<string> s_root = new(() =>
    {
        foreach (var stale in Directory.GetDirectories(Path.GetTempPath(), Prefix + "*"))
            if (int.TryParse(Path.GetFileName(stale)[Prefix.Length..], out var pid) && !ProcessAlive(pid))
                try { Directory.Delete(stale, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        var root = Path.Combine(Path.GetTempPath(), Prefix + Environment.ProcessId);
        Directory.CreateDirectory(root);
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try { Directory.Delete(root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        };
        return root;
    });

    static readonly Lazy<string> s_preset = new(() =>
    {
        var dir = Path.Combine(Root, "preset");
        TinyPreset.Write(dir, seed: 7);
        return dir;
    });

    public static string Root => s_root.Value;

    public static string Folder(string name) => name == "preset" ? s_preset.Value
        : FixtureFamilies.IsFixture(name) ? FixtureFamilies.Folder(name) : TinyFamilies.Folder(name);

    public static string NewTempDirectory(string tag)
    {
        var dir = Path.Combine(Root, $"{tag}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        return dir;
    }

    static bool ProcessAlive(int pid)
    {
        try
        {
            using var p = System.Diagnostics.Process.GetProcessById(pid);
            return !p.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}

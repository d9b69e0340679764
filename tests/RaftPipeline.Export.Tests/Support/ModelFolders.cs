using RaftPipeline.Modeling.Presets;

namespace RaftPipeline.Export.Tests.Support;

/// <summary>
/// The model folders the export tests use: "preset", the tool's own tiny Qwen3 (the real Qwen3 tokenizer and chat
/// template, hidden 64); "qwen2" and "llama" written by transformers (<see cref="TransformersFolder"/>); the other
/// families' transformers fixtures (<see cref="FixtureFamilies"/>); and "qwen3", "qwen2_256", "llama_256" from
/// <see cref="TinyFamilies"/> (hidden 256, for the k-quant blocks).
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

    public static string Folder(string name) => name switch
    {
        "preset" => s_preset.Value,
        "qwen2" or "llama" => TransformersFolder(name),
        _ when FixtureFamilies.IsFixture(name) => FixtureFamilies.Folder(name),
        _ => TinyFamilies.Folder(name),
    };

    /// <summary>Written by transformers (tests/RaftPipeline.Modeling.Tests/Fixtures/qwen3_parity, generate.py there): the
    /// families' proof runs on these and on <see cref="FixtureFamilies"/>; the repository-built ones are for what they cannot
    /// show (the k-quant blocks need rows of 256).</summary>
    public static bool IsTransformersWritten(string name) => name is "qwen2" or "llama" || FixtureFamilies.IsFixture(name);

    static readonly object s_lock = new();
    static readonly Dictionary<string, string> s_transformers = new();

    /// <summary>
    /// The Qwen2 (q/k/v biases) and Llama that transformers wrote into qwen3_parity (vocab 512, hidden 32, fp32, the
    /// config in the file's metadata), with the 512-token tokenizer, chat template and generation config of
    /// <see cref="TinyFamilies"/>' folder of the same family attached (its special tokens sit at the ids the config
    /// names: eos 511).
    /// </summary>
    static string TransformersFolder(string family)
    {
        lock (s_lock)
        {
            if (s_transformers.TryGetValue(family, out var dir)) return dir;
            RaftPipeline.Modeling.Native.TorchRuntime.EnsureInitialized();
            dir = Path.Combine(Root, "hf-" + family);
            Directory.CreateDirectory(dir);
            var weights = Path.Combine(FixtureFamilies.FixtureRoot, "..", "qwen3_parity", $"{family}.safetensors");
            using (var file = RaftPipeline.Modeling.Safetensors.SafetensorsFile.Open(weights))
                File.WriteAllText(Path.Combine(dir, "config.json"), file.Metadata["config_json"]);
            File.Copy(weights, Path.Combine(dir, "model.safetensors"), overwrite: true);
            var tiny = TinyFamilies.Folder(family + "_256");
            foreach (var f in new[] { "tokenizer.json", "tokenizer_config.json", "generation_config.json" })
                File.Copy(Path.Combine(tiny, f), Path.Combine(dir, f), overwrite: true);
            s_transformers[family] = dir;
            return dir;
        }
    }

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

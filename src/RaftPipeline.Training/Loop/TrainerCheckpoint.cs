using System.Text.Json;
using RaftPipeline.Modeling.Safetensors;
using static TorchSharp.torch;

namespace RaftPipeline.Training.Loop;

/// <summary>
/// A checkpoint folder <c>checkpoint-{step}/</c>: <c>trainable.safetensors</c> (the parameters with requires_grad,
/// by checkpoint key), <c>optimizer.safetensors</c> (moments, or 8-bit codes + absmax), <c>trainer_state.json</c>
/// (<see cref="TrainerState"/>: step, schedule position, data order, RNG state, log history). Written into a
/// temporary folder (<c>checkpoint-{step}.tmp/</c>) and renamed, so a crash never leaves a half checkpoint that a
/// resume would trust (<see cref="Newest"/> looks at renamed folders only). The rename makes it atomic against a killed
/// process; the files are not fsynced, so after a power cut the newest checkpoint may be unreadable (resume then fails
/// with its file's name; <c>raft run --no-resume</c> starts over).
/// </summary>
public static class TrainerCheckpoint
{
    public const string TrainableFile = "trainable.safetensors";
    public const string OptimizerFile = "optimizer.safetensors";
    public const string StateFile = "trainer_state.json";
    static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    public const string FolderPrefix = "checkpoint-";
    public const string PartialSuffix = ".tmp";

    /// <param name="addFiles">Writes the caller's own files into the temporary folder before the rename.</param>
    public static string Save(string outputDir, TrainerState state,
        IEnumerable<(string Name, Tensor Tensor)> trainable, IReadOnlyDictionary<string, Tensor> optimizerState,
        Action<string>? addFiles = null)
    {
        string final = Path.Combine(outputDir, $"{FolderPrefix}{state.GlobalStep}");
        string temp = final + PartialSuffix;
        if (Directory.Exists(temp)) Directory.Delete(temp, recursive: true);
        Directory.CreateDirectory(temp);
        SafetensorsWriter.Write(Path.Combine(temp, TrainableFile), trainable.Select(t => (t.Name, t.Tensor.detach())));
        SafetensorsWriter.Write(Path.Combine(temp, OptimizerFile),
            optimizerState.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => (kv.Key, kv.Value.detach())),
            new Dictionary<string, string> { ["step"] = state.GlobalStep.ToString() });
        addFiles?.Invoke(temp);
        File.WriteAllText(Path.Combine(temp, StateFile), JsonSerializer.Serialize(state, Json));
        if (Directory.Exists(final)) Directory.Delete(final, recursive: true);
        Directory.Move(temp, final);
        return final;
    }

    /// <summary>The complete checkpoints in <paramref name="outputDir"/> (renamed into place, every file there), oldest first.</summary>
    public static IReadOnlyList<(int Step, string Path)> List(string outputDir)
    {
        if (!Directory.Exists(outputDir)) return [];
        return Directory.EnumerateDirectories(outputDir, FolderPrefix + "*")
            .Select(d => (Name: Path.GetFileName(d), Path: d))
            .Where(d => int.TryParse(d.Name.AsSpan(FolderPrefix.Length), System.Globalization.NumberStyles.None,
                System.Globalization.CultureInfo.InvariantCulture, out _))
            .Where(d => new[] { TrainableFile, OptimizerFile, StateFile }.All(f => File.Exists(Path.Combine(d.Path, f))))
            .Select(d => (Step: int.Parse(d.Name.AsSpan(FolderPrefix.Length), System.Globalization.CultureInfo.InvariantCulture), d.Path))
            .OrderBy(d => d.Step)
            .ToList();
    }

    /// <summary>The optimizer step a checkpoint folder was written at, from its name (<c>checkpoint-N</c>).</summary>
    public static int StepOf(string checkpointDir) =>
        int.Parse(Path.GetFileName(checkpointDir.TrimEnd('/', '\\')).AsSpan(FolderPrefix.Length), System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The newest complete checkpoint in <paramref name="outputDir"/>, or null when there is none.</summary>
    public static string? Newest(string outputDir) => List(outputDir) is { Count: > 0 } all ? all[^1].Path : null;

    /// <summary>Deletes all but the newest <paramref name="keep"/> checkpoints (HF's save_total_limit), oldest first.</summary>
    public static void Prune(string outputDir, int keep)
    {
        var all = List(outputDir);
        foreach (var (_, path) in all.Take(Math.Max(0, all.Count - keep)))
            Directory.Delete(path, recursive: true);
    }

    public static TrainerState LoadState(string checkpointDir)
    {
        string path = Path.Combine(checkpointDir, StateFile);
        if (!File.Exists(path))
            throw new FileNotFoundException($"not a trainer checkpoint: {path} is missing", path);
        try
        {
            return JsonSerializer.Deserialize<TrainerState>(File.ReadAllText(path), Json)
                   ?? throw new InvalidDataException($"{path}: empty trainer state");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: not a trainer state ({e.Message})", e);
        }
    }

    /// <summary>Copies saved trainable tensors into the live parameters (names and shapes must match).</summary>
    public static void LoadTrainable(string checkpointDir, IEnumerable<(string Name, Tensor Parameter)> trainable)
    {
        using var file = SafetensorsCheckpoint.Open(Path.Combine(checkpointDir, TrainableFile));
        using var noGrad = no_grad();
        foreach (var (name, p) in trainable)
        {
            if (!file.Contains(name))
                throw new InvalidDataException($"{Path.Combine(checkpointDir, TrainableFile)}: trainable parameter '{name}' missing");
            file.ReadInto(name, p);
        }
    }

    /// <summary>The optimizer tensors of a checkpoint, on <paramref name="device"/>. Caller disposes them.</summary>
    public static Dictionary<string, Tensor> LoadOptimizer(string checkpointDir, Device device)
    {
        using var file = SafetensorsCheckpoint.Open(Path.Combine(checkpointDir, OptimizerFile));
        return file.TensorNames.ToDictionary(n => n, n => file.Read(n, device));
    }
}

using System.Text.Json;
using RaftPipeline.Modeling.Safetensors;
using static TorchSharp.torch;

namespace RaftPipeline.Training.Loop;

/// <summary>
/// A checkpoint folder <c>checkpoint-{step}/</c>: <c>trainable.safetensors</c> (the parameters with requires_grad,
/// by checkpoint key), <c>optimizer.safetensors</c> (moments, or 8-bit codes + absmax), <c>trainer_state.json</c>
/// (<see cref="TrainerState"/>: step, schedule position, data order, RNG state, log history). Written into a
/// temporary folder and renamed, so a crash never leaves a half checkpoint that a resume would trust.
/// </summary>
public static class TrainerCheckpoint
{
    public const string TrainableFile = "trainable.safetensors";
    public const string OptimizerFile = "optimizer.safetensors";
    public const string StateFile = "trainer_state.json";
    static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    public static string Save(string outputDir, TrainerState state,
        IEnumerable<(string Name, Tensor Tensor)> trainable, IReadOnlyDictionary<string, Tensor> optimizerState)
    {
        string final = Path.Combine(outputDir, $"checkpoint-{state.GlobalStep}");
        string temp = final + ".tmp";
        if (Directory.Exists(temp)) Directory.Delete(temp, recursive: true);
        Directory.CreateDirectory(temp);
        SafetensorsWriter.Write(Path.Combine(temp, TrainableFile), trainable.Select(t => (t.Name, t.Tensor.detach())));
        SafetensorsWriter.Write(Path.Combine(temp, OptimizerFile),
            optimizerState.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => (kv.Key, kv.Value.detach())),
            new Dictionary<string, string> { ["step"] = state.GlobalStep.ToString() });
        File.WriteAllText(Path.Combine(temp, StateFile), JsonSerializer.Serialize(state, Json));
        if (Directory.Exists(final)) Directory.Delete(final, recursive: true);
        Directory.Move(temp, final);
        return final;
    }

    public static TrainerState LoadState(string checkpointDir)
    {
        string path = Path.Combine(checkpointDir, StateFile);
        if (!File.Exists(path))
            throw new FileNotFoundException($"not a trainer checkpoint: {path} is missing", path);
        return JsonSerializer.Deserialize<TrainerState>(File.ReadAllText(path), Json)
               ?? throw new InvalidDataException($"{path}: empty trainer state");
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

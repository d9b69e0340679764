namespace RaftPipeline.Modeling.Safetensors;

/// <summary>
/// PyTorch checkpoints (*.bin, *.pt, *.pth, *.ckpt) are Python pickles: loading one runs arbitrary code from
/// the file. This tool never does; it asks for safetensors instead.
/// </summary>
public static class PickleRefusal
{
    public static readonly IReadOnlyList<string> PickleExtensions = [".bin", ".pt", ".pth", ".ckpt", ".pkl"];

    public static bool IsPickleCheckpoint(string path) =>
        PickleExtensions.Contains(System.IO.Path.GetExtension(path), StringComparer.OrdinalIgnoreCase);

    public static void ThrowIfPickle(string path)
    {
        if (IsPickleCheckpoint(path)) throw Refusal(path);
    }

    public static NotSupportedException Refusal(string path) => new(
        $"{path}: PyTorch pickle checkpoints are refused. Unpickling executes code stored in the file, so this tool " +
        "never loads one. Convert the model to safetensors first (in Python: " +
        "model.save_pretrained(dir, safe_serialization=True)) or download the repository's *.safetensors files.");
}

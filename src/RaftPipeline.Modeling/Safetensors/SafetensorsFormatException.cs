namespace RaftPipeline.Modeling.Safetensors;

/// <summary>A safetensors file (or sharded index) that breaks the format; names the file and, where known, the tensor.</summary>
public sealed class SafetensorsFormatException : Exception
{
    public SafetensorsFormatException(string file, string? tensor, string problem)
        : base(tensor is null ? $"{file}: {problem}" : $"{file}: tensor '{tensor}': {problem}")
    {
        File = file;
        Tensor = tensor;
        Problem = problem;
    }

    public string File { get; }
    public string? Tensor { get; }
    public string Problem { get; }
}

namespace RaftPipeline.Export;

/// <summary>An export the tool refuses, with the file or key at fault and what was expected. Thrown before any
/// output is written when it can be known in advance (unsupported family, type or tokenizer).</summary>
public sealed class ExportException(string source, string message) : Exception($"{source}: {message}")
{
    /// <summary>The file, folder or parameter the problem is in.</summary>
    public string Where { get; } = source;
    public string Reason { get; } = message;
}

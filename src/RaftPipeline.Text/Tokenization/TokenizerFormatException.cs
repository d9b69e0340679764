namespace RaftPipeline.Text.Tokenization;

/// <summary>
/// A tokenizer file that cannot be used: malformed JSON (with its line and position) or a valid file that
/// asks for something this loader does not implement (with the JSON path of that piece). Never thrown for
/// bad text passed to <see cref="HuggingFaceTokenizer.Encode"/>.
/// </summary>
public sealed class TokenizerFormatException : Exception
{
    public TokenizerFormatException(string filePath, string jsonPath, string problem)
        : base($"{filePath}: {jsonPath}: {problem}")
    {
        FilePath = filePath;
        JsonPath = jsonPath;
    }

    public TokenizerFormatException(string filePath, long line, long position, string problem, Exception inner)
        : base($"{filePath}: line {line}, position {position}: {problem}", inner)
    {
        FilePath = filePath;
        Line = line;
        Position = position;
    }

    /// <summary>The file at fault (a path, or the embedded resource's name).</summary>
    public string FilePath { get; }

    /// <summary>JSON path of the unsupported or wrong piece, e.g. <c>$.model.type</c>; null for malformed JSON.</summary>
    public string? JsonPath { get; }

    /// <summary>1-based line of malformed JSON; null when the JSON itself is well formed.</summary>
    public long? Line { get; }

    /// <summary>1-based byte position within <see cref="Line"/> of malformed JSON.</summary>
    public long? Position { get; }
}

namespace RaftPipeline.Text.Templates;

/// <summary>
/// A messages file or a model folder's chat template settings are not what they should be. The message names the
/// file, the position in it (a JSON path such as messages[2].role, or line:column for JSON syntax errors) and what
/// was expected.
/// </summary>
public sealed class ChatInputException(string file, string position, string detail)
    : Exception($"{file}: {position}: {detail}")
{
    public string File { get; } = file;
    public string Position { get; } = position;
    public string Detail { get; } = detail;
}

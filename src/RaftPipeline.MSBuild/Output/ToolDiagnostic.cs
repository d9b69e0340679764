namespace RaftPipeline.MSBuild.Output;

/// <summary>An error the tool printed, in the pieces MSBuild's canonical format needs: file(line,col): error CODE: message.</summary>
/// <param name="File">Null when the error has no file (a tool-level error, an override).</param>
/// <param name="Line">0 when there is no position.</param>
public sealed record ToolDiagnostic(string Code, string? File, int Line, int Column, string Message)
{
    /// <summary>A problem in the spec (or in a --set override): file, line, column, key and message.</summary>
    public const string SpecErrorCode = "RAFT0001";
    /// <summary>A stage failed while running; placed at the stage's declaration in the spec.</summary>
    public const string StageFailedCode = "RAFT0002";
    /// <summary>The tool failed otherwise (an error line without a location, or a non-zero exit that printed none).</summary>
    public const string ToolFailedCode = "RAFT0003";

    /// <summary>As MSBuild's console logger prints it (without the project suffix).</summary>
    public override string ToString()
    {
        var where = File is null ? "" : Line > 0 ? $"{File}({Line},{Column}): " : $"{File}: ";
        return $"{where}error {Code}: {Message}";
    }
}

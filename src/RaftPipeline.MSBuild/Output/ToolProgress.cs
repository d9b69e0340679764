namespace RaftPipeline.MSBuild.Output;

/// <summary>Which lines of the tool's output are progress (see <see cref="IsProgress"/>).</summary>
public static class ToolProgress
{
    /// <summary>
    /// The tool's progress lines: stage starts and ends (<c>[3/9] train: running</c>), step progress with its time left
    /// (<c>  train: step 40/200 ... ETA 2m10s</c>) and the closing summary. They are logged with high importance, so a
    /// build at MSBuild's default verbosity (minimal) shows them; the rest of the tool's output stays at normal.
    /// </summary>
    public static bool IsProgress(string line) =>
        line.StartsWith('[') && line.Contains("] ", StringComparison.Ordinal)
        || line.Contains(" ETA ", StringComparison.Ordinal)
        || line.StartsWith("succeeded: ", StringComparison.Ordinal) || line.StartsWith("failed: ", StringComparison.Ordinal)
        || line.StartsWith("run folder: ", StringComparison.Ordinal);
}

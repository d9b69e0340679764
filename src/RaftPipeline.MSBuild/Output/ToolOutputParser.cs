using System.Text.RegularExpressions;

namespace RaftPipeline.MSBuild.Output;

/// <summary>
/// Recognizes the tool's error lines in its plain output:
/// <list type="bullet">
/// <item><c>spec.yaml:12:7: error: stages.train.params.lr: unknown key</c> (a spec error, as SpecError prints it) → RAFT0001 at file(12,7);</item>
/// <item><c>spec.yaml: error: cannot read the spec</c> and <c>--set train.lr: error: ...</c> → RAFT0001 without a position;</item>
/// <item><c>spec.yaml:12:7: stage 'x': ...</c> (a run that could not start, located in a .yaml/.yml file) → RAFT0001 at file(12,7);</item>
/// <item><c>spec.yaml: unknown stage 'x'</c> (a problem with the whole spec, e.g. an unknown target or device) → RAFT0001 at the file;</item>
/// <item><c>stage 'train' (train) failed: out of memory</c> (the run's closing summary of a failed stage) → RAFT0002 at the stage's declaration;</item>
/// <item><c>error: ...</c> and <c>not run: ...</c> (the cache lock timed out) → RAFT0003 without a file.</item>
/// </list>
/// Every other line is progress, passed to the build log as it is; that includes the progress line
/// <c>[3/7] train: failed: ...</c>, since the summary line reports the same failure once more.
/// </summary>
public sealed partial class ToolOutputParser(Func<string, (string File, int Line, int Column)?> stageLocation)
{
    [GeneratedRegex(@"^(?<file>.+?):(?<line>\d+):(?<col>\d+): error: (?<msg>.*)$")]
    private static partial Regex PositionedError();

    [GeneratedRegex(@"^(?<file>.+?\.ya?ml):(?<line>\d+):(?<col>\d+): (?<msg>.*)$", RegexOptions.IgnoreCase)]
    private static partial Regex PositionedSpecProblem();

    [GeneratedRegex(@"^(?<file>[^\s].*?): error: (?<msg>.*)$")]
    private static partial Regex FileError();

    [GeneratedRegex(@"^(?<file>\S+\.ya?ml): (?<msg>.*)$", RegexOptions.IgnoreCase)]
    private static partial Regex SpecProblem();

    [GeneratedRegex(@"^stage '(?<stage>[^']+)' \((?<kind>[^)]*)\) failed: (?<msg>.*)$")]
    private static partial Regex StageFailed();

    [GeneratedRegex(@"^(?:error|not run): (?<msg>.*)$")]
    private static partial Regex ToolError();

    /// <summary>The error on this line, or null when the line is progress.</summary>
    public ToolDiagnostic? Parse(string line)
    {
        var text = line.TrimEnd();
        if (ToolError().Match(text) is { Success: true } tool)
            return new ToolDiagnostic(ToolDiagnostic.ToolFailedCode, null, 0, 0, tool.Groups["msg"].Value);
        if (PositionedError().Match(text) is { Success: true } positioned)
            return Positioned(positioned);
        if (PositionedSpecProblem().Match(text) is { Success: true } problem)
            return Positioned(problem);
        if (StageFailed().Match(text) is { Success: true } failed)
        {
            var stage = failed.Groups["stage"].Value;
            var message = $"stage '{stage}' ({failed.Groups["kind"].Value}) failed: {failed.Groups["msg"].Value}";
            return stageLocation(stage) is { } at
                ? new ToolDiagnostic(ToolDiagnostic.StageFailedCode, at.File, at.Line, at.Column, message)
                : new ToolDiagnostic(ToolDiagnostic.StageFailedCode, null, 0, 0, message);
        }
        if (FileError().Match(text) is { Success: true } fileError)
        {
            var file = fileError.Groups["file"].Value;
            // An override has no file: name it in the message instead of pretending it is a path.
            return file.StartsWith("--set ", StringComparison.Ordinal)
                ? new ToolDiagnostic(ToolDiagnostic.SpecErrorCode, null, 0, 0, $"{file}: {fileError.Groups["msg"].Value}")
                : new ToolDiagnostic(ToolDiagnostic.SpecErrorCode, file, 0, 0, fileError.Groups["msg"].Value);
        }
        if (SpecProblem().Match(text) is { Success: true } whole)
            return new ToolDiagnostic(ToolDiagnostic.SpecErrorCode, whole.Groups["file"].Value, 0, 0, whole.Groups["msg"].Value);
        return null;
    }

    static ToolDiagnostic Positioned(Match m) => new(
        ToolDiagnostic.SpecErrorCode,
        m.Groups["file"].Value,
        int.Parse(m.Groups["line"].Value, System.Globalization.CultureInfo.InvariantCulture),
        int.Parse(m.Groups["col"].Value, System.Globalization.CultureInfo.InvariantCulture),
        m.Groups["msg"].Value);
}

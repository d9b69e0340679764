using System.Text;

namespace RaftPipeline.Stages.Report;

/// <summary>The two files a run report writes.</summary>
public sealed record RunReportFiles(string MarkdownPath, string HtmlPath);

/// <summary>
/// The run report: <c>report.md</c> and a self-contained <c>report.html</c> in the run folder, built only from what
/// the run folder holds (the lock file, <c>spec.resolved.yaml</c> and <c>stages/&lt;name&gt;/</c>). Written after a
/// run, whether it succeeded or not; a missing or malformed file becomes a note in the report, never an error.
/// </summary>
public static class RunReport
{
    public const string MarkdownFileName = "report.md";
    public const string HtmlFileName = "report.html";

    public static RunReportFiles Write(string runFolderPath)
    {
        var model = RunFolderReader.Read(runFolderPath);
        var folder = Path.GetFullPath(runFolderPath);
        var files = new RunReportFiles(Path.Combine(folder, MarkdownFileName), Path.Combine(folder, HtmlFileName));
        // Atomically (a temporary file, then a rename): a full disk leaves the old report or none, never half of one.
        Core.Store.JsonFiles.WriteTextAtomically(files.MarkdownPath, MarkdownReportWriter.Render(model));
        Core.Store.JsonFiles.WriteTextAtomically(files.HtmlPath, HtmlReportWriter.Render(model));
        return files;
    }
}

using System.Text.Json;
using RaftPipeline.Core.Engine;
using RaftPipeline.Core.Runs;
using RaftPipeline.Stages.Analyze;

namespace RaftPipeline.Stages.Report;

/// <summary>
/// Reads a run folder into a <see cref="RunReportModel"/>: the lock file for stages, kinds, statuses, keys and
/// timings, <c>spec.resolved.yaml</c> as it ran, and each stage's report folder. Nothing outside the run folder is
/// read, except a reused stage's cached artifact that the lock names (see <see cref="StageFiles"/>).
/// Missing or malformed inputs become notes; only an unreadable run folder itself is an error.
/// </summary>
public static class RunFolderReader
{
    public static RunReportModel Read(string runFolder)
    {
        runFolder = Path.GetFullPath(runFolder);
        if (!Directory.Exists(runFolder)) throw new DirectoryNotFoundException($"run folder '{runFolder}' does not exist");
        var notes = new List<string>();

        RunLock? runLock = null;
        var lockPath = Path.Combine(runFolder, RunLock.FileName);
        if (!File.Exists(lockPath)) notes.Add($"{RunLock.FileName} is missing: stage statuses, keys and timings are unknown.");
        else
        {
            try
            {
                runLock = RunLock.Read(lockPath);
            }
            catch (Exception e) when (e is InvalidDataException or JsonException or FormatException)
            {
                notes.Add($"{RunLock.FileName} is not readable ({e.Message}): stage statuses, keys and timings are unknown.");
            }
        }

        var specPath = Path.Combine(runFolder, RunFolder.ResolvedSpecFileName);
        string? spec = File.Exists(specPath) ? File.ReadAllText(specPath) : null;
        if (spec is null) notes.Add($"{RunFolder.ResolvedSpecFileName} is missing.");

        // The lock's stages in run order, then any report folder the lock does not name (a lock cut short).
        var names = runLock?.Stages.Select(s => s.Name).ToList() ?? [];
        var stagesDir = Path.Combine(runFolder, RunFolder.StagesFolderName);
        if (Directory.Exists(stagesDir))
            names.AddRange(Directory.EnumerateDirectories(stagesDir).Select(Path.GetFileName).OfType<string>()
                .Where(n => !names.Contains(n)).Order(StringComparer.Ordinal));

        var stages = names.Select(n => ReadStage(runFolder, n, runLock?.Stage(n))).ToList();
        var title = runLock?.Pipeline ?? Path.GetFileName(Path.GetDirectoryName(runFolder)) ?? Path.GetFileName(runFolder);
        return new RunReportModel(title, runLock, spec, notes, stages);
    }

    static StageReport ReadStage(string runFolder, string name, StageRecord? record)
    {
        var files = new StageFiles(runFolder, name, record);
        var kind = record?.Kind ?? GuessKind(files.Directory);
        StageSection? section = kind switch
        {
            "analyze" => AnalyzeSectionReader.Read(files, record),
            "train" => TrainSectionReader.Read(files),
            "eval" => EvalSectionReader.Read(files),
            "generate" => GenerateSectionReader.Read(files),
            _ => null,
        };
        // A cached artifact dropped as broken or untrusted (and rebuilt) is worth a line: the cache was not what it claimed.
        IReadOnlyList<string> notes = record?.Dropped is { } dropped
            ? [$"The cached artifact of this key was dropped and the stage ran again: {dropped}.", .. files.AllNotes()]
            : files.AllNotes();
        return new StageReport(name, kind, record, section, notes, files.List());
    }

    /// <summary>Without a lock record, a report folder's files say what kind wrote it.</summary>
    static string? GuessKind(string directory)
    {
        bool Has(string file) => File.Exists(Path.Combine(directory, file));
        if (Has(AnalyzeArtifact.StatisticsText) || Has(AnalyzeArtifact.Histogram)) return "analyze";
        if (Has(TrainSectionReader.MetricsFile) || Has(TrainSectionReader.SummaryFile)) return "train";
        if (Has(EvalSectionReader.EvalFile)) return "eval";
        if (Has(GenerateSectionReader.SamplesFile)) return "generate";
        return null;
    }
}

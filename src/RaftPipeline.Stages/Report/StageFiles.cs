using RaftPipeline.Core.Engine;

namespace RaftPipeline.Stages.Report;

/// <summary>
/// Finds a stage's report files: in <c>stages/&lt;name&gt;/</c> of the run folder, or, for a reused stage, in the
/// cached artifact the lock names (a reused stage does not run, so it writes nothing into this run's folder; its
/// report files are part of its artifact by contract). Every miss and every fallback becomes a note.
/// </summary>
internal sealed class StageFiles
{
    readonly string _runFolder;
    readonly StageRecord? _record;
    readonly List<string> _fromArtifact = [];

    public StageFiles(string runFolder, string name, StageRecord? record)
    {
        _runFolder = runFolder;
        _record = record;
        Name = name;
        Directory = Path.Combine(runFolder, Core.Runs.RunFolder.StagesFolderName, name);
    }

    public string Name { get; }
    public string Directory { get; }
    public List<string> Notes { get; } = [];

    /// <summary>Whether the stage produced an artifact in this run, so its report files are expected.</summary>
    public bool Expected => _record is null || _record.Status is StageStatus.Ran or StageStatus.Reused;

    /// <summary>The file's path, or null (with a note when the stage should have written it).</summary>
    public string? Find(string file)
    {
        var local = Path.Combine(Directory, file);
        if (File.Exists(local)) return local;
        if (_record is { Status: StageStatus.Reused, Artifact: { } artifact } && File.Exists(Path.Combine(artifact, file)))
        {
            _fromArtifact.Add(file);
            return Path.Combine(artifact, file);
        }
        if (Expected) Notes.Add($"{Display(local)} is missing.");
        return null;
    }

    /// <summary>A path as the report prints it: relative to the run folder (with '/') when inside it.</summary>
    public string Display(string path)
    {
        var relative = Path.GetRelativePath(_runFolder, path);
        return relative.StartsWith("..", StringComparison.Ordinal) || Path.IsPathRooted(relative) ? path : relative.Replace('\\', '/');
    }

    /// <summary>The notes, with one for the files read from the cache (said once per stage, not per file).</summary>
    public IReadOnlyList<string> AllNotes()
    {
        var notes = new List<string>(Notes);
        if (_fromArtifact.Count > 0)
            notes.Insert(0, $"reused stage: {string.Join(", ", _fromArtifact)} read from its cached artifact {_record!.Artifact} (the entry predates report copies kept beside artifacts).");
        return notes;
    }

    /// <summary>
    /// The files of the stage's report folder, relative to the run folder, in ordinal order; links (the
    /// <c>artifact</c> link into the cache) are neither listed nor followed.
    /// </summary>
    public IReadOnlyList<string> List() =>
        System.IO.Directory.Exists(Directory)
            ? System.IO.Directory.EnumerateFiles(Directory, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = FileAttributes.ReparsePoint })
                .Select(Display).Order(StringComparer.Ordinal).ToList()
            : [];
}

using System.Globalization;
using RaftPipeline.Core.Spec;
using RaftPipeline.Core.Store;

namespace RaftPipeline.Core.Runs;

/// <summary>
/// One run's folder: <c>runs/&lt;pipeline&gt;/&lt;yyyyMMdd-HHmmss&gt;/</c> (UTC) beside the spec, or the folder given
/// with <c>--run-dir</c>. It holds <c>spec.resolved.yaml</c>, <c>raft.lock.json</c>, <c>run.log</c> and
/// <c>stages/&lt;name&gt;/</c>, each stage's report folder, with <c>artifact</c> in it: a symbolic link to the stage's
/// artifact in the cache (relative, so a tree moved whole keeps working), or, where the file system refuses links,
/// <c>artifact.path</c>, a text file holding the artifact's absolute path.
/// </summary>
public sealed class RunFolder
{
    public const string RunsFolderName = "runs";
    public const string ResolvedSpecFileName = "spec.resolved.yaml";
    public const string LogFileName = "run.log";
    public const string StagesFolderName = "stages";
    public const string TimestampFormat = "yyyyMMdd-HHmmss";
    /// <summary>In <c>stages/&lt;name&gt;/</c>: the link to the stage's artifact (its cache entry's data/ folder).</summary>
    public const string ArtifactLinkName = "artifact";
    /// <summary>In <c>stages/&lt;name&gt;/</c>, where no link could be made: the artifact's absolute path, one line.</summary>
    public const string ArtifactPathFileName = "artifact.path";

    RunFolder(string path) => Path = path;

    public string Path { get; }
    public string LockPath => System.IO.Path.Combine(Path, RunLock.FileName);
    public string LogPath => System.IO.Path.Combine(Path, LogFileName);
    public string ResolvedSpecPath => System.IO.Path.Combine(Path, ResolvedSpecFileName);

    /// <summary>The stage's report folder, created on first use.</summary>
    public string StageReportDirectory(string stage)
    {
        var dir = System.IO.Path.Combine(Path, StagesFolderName, stage);
        Directory.CreateDirectory(dir);
        return dir;
    }

    /// <summary>
    /// Links <c>stages/&lt;stage&gt;/artifact</c> to <paramref name="artifactDirectory"/> (a symbolic link with a relative
    /// target), or writes <c>artifact.path</c> when the file system or the platform refuses links (Windows without
    /// the privilege). Returns the link or file made.
    /// </summary>
    public string LinkArtifact(string stage, string artifactDirectory)
    {
        var dir = StageReportDirectory(stage);
        var link = System.IO.Path.Combine(dir, ArtifactLinkName);
        var pathFile = System.IO.Path.Combine(dir, ArtifactPathFileName);
        var target = System.IO.Path.GetFullPath(artifactDirectory);
        try
        {
            if (new FileInfo(link).LinkTarget is not null) File.Delete(link);
            Directory.CreateSymbolicLink(link, System.IO.Path.GetRelativePath(dir, target));
            return link;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or PlatformNotSupportedException)
        {
            File.WriteAllText(pathFile, target + "\n");
            return pathFile;
        }
    }

    /// <summary>
    /// The artifact folder a stage folder points to (through its link or its artifact.path), or null when it has
    /// neither; for readers of run folders.
    /// </summary>
    public static string? ArtifactOf(string stageDirectory)
    {
        var link = new DirectoryInfo(System.IO.Path.Combine(stageDirectory, ArtifactLinkName));
        if (link.LinkTarget is { } target) return System.IO.Path.GetFullPath(System.IO.Path.Combine(stageDirectory, target));
        var pathFile = System.IO.Path.Combine(stageDirectory, ArtifactPathFileName);
        return File.Exists(pathFile) ? File.ReadAllText(pathFile).Trim() : null;
    }

    /// <summary>Where the runs of <paramref name="spec"/> go by default: <c>runs/&lt;pipeline&gt;/</c> beside the spec file.</summary>
    public static string DefaultPipelineRunsDirectory(PipelineSpec spec) =>
        System.IO.Path.Combine(System.IO.Path.GetDirectoryName(spec.SourceFile)!, RunsFolderName, spec.Name);

    /// <summary>
    /// Creates the run folder: <paramref name="explicitPath"/> when given (it must not already hold a run),
    /// else a new timestamped folder under <see cref="DefaultPipelineRunsDirectory"/>; two runs started in the
    /// same second get <c>-2</c>, <c>-3</c>, ... suffixes.
    /// </summary>
    public static RunFolder Create(PipelineSpec spec, string? explicitPath, DateTime startedUtc)
    {
        if (explicitPath is not null)
        {
            var full = System.IO.Path.GetFullPath(explicitPath);
            if (File.Exists(System.IO.Path.Combine(full, RunLock.FileName)))
                throw new StorageException("run folder", full, $"already holds a run ({RunLock.FileName}); choose an empty or new folder");
            if (File.Exists(full)) throw new StorageException("run folder", full, "a file, not a folder");
            Directory.CreateDirectory(full);
            return new RunFolder(full);
        }
        var parent = DefaultPipelineRunsDirectory(spec);
        Directory.CreateDirectory(parent);
        var stamp = startedUtc.ToString(TimestampFormat, CultureInfo.InvariantCulture);
        for (var n = 1; ; n++)
        {
            var path = System.IO.Path.Combine(parent, n == 1 ? stamp : $"{stamp}-{n}");
            // Claim the name by renaming a private folder onto it: the rename fails when another run (this
            // process or another) made that folder first, where CreateDirectory would silently share it.
            if (Directory.Exists(path)) continue;
            var claim = System.IO.Path.Combine(parent, $".claim-{Guid.NewGuid():N}");
            Directory.CreateDirectory(claim);
            try
            {
                Directory.Move(claim, path);
            }
            catch (IOException) when (Directory.Exists(path))
            {
                Directory.Delete(claim);
                continue;
            }
            return new RunFolder(path);
        }
    }
}

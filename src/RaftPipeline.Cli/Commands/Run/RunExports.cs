using RaftPipeline.Core.Engine;
using RaftPipeline.Core.Spec;
using RaftPipeline.Core.Store;

namespace RaftPipeline.Cli.Commands.Run;

/// <summary>
/// What <c>raft run</c> copies out after the run: the spec's top-level <c>export:</c> map (folders relative to the
/// spec) and the command line's <c>--export STAGE=DIR</c> (relative to the current folder), which replaces the
/// spec's folder for the same stage. Each copy goes through <see cref="ArtifactExporter"/> (writable, atomic, never
/// over an unrelated non-empty folder without <c>--force</c>).
/// </summary>
public sealed class RunExports
{
    readonly Dictionary<string, (string Folder, bool FromCommandLine)> _exports;

    RunExports(Dictionary<string, (string, bool)> exports) => _exports = exports;

    public int Count => _exports.Count;

    /// <summary>Reads the two sources; the problems are about the command line (the spec's map was checked by the loader).</summary>
    public static RunExports Plan(PipelineSpec spec, IReadOnlyList<string> commandLine, IReadOnlyCollection<string> stagesOfRun, out List<string> problems)
    {
        problems = [];
        var exports = spec.Exports.ToDictionary(p => p.Key, p => (p.Value, false), StringComparer.Ordinal);
        var given = new HashSet<string>(StringComparer.Ordinal);
        foreach (var value in commandLine)
        {
            var eq = value.IndexOf('=');
            var stage = eq > 0 ? value[..eq] : "";
            var folder = eq > 0 ? value[(eq + 1)..] : "";
            if (stage.Length == 0 || folder.Length == 0)
                problems.Add($"--export {value}: expected STAGE=DIR, e.g. --export merged=out/merged");
            else if (spec.Stages.All(s => s.Name != stage))
                problems.Add($"--export {value}: '{stage}' is no stage of {Path.GetFileName(spec.SourceFile)} (stages: {string.Join(", ", spec.Stages.Select(s => s.Name))})");
            else if (!stagesOfRun.Contains(stage))
                problems.Add($"--export {value}: stage '{stage}' is not part of this run; name it among the stages to run");
            else if (!given.Add(stage))
                problems.Add($"--export {value}: stage '{stage}' is exported twice; give one folder per stage");
            else
                exports[stage] = (Path.GetFullPath(folder), true);
        }
        return new RunExports(exports);
    }

    /// <summary>
    /// Copies each stage's artifact after the run. A stage the run did not build (not part of it, failed, skipped) is
    /// said and passed over. Returns false when a copy was refused or failed.
    /// </summary>
    public bool Apply(PipelineSpec spec, RunResult result, bool force, TextWriter output, TextWriter error)
    {
        var store = new ArtifactStore(spec.CacheDirectory);
        var exporter = new ArtifactExporter(store);
        var ok = true;
        foreach (var (stage, (folder, fromCommandLine)) in _exports.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            var record = result.Lock.Stage(stage);
            if (record is null)
            {
                output.WriteLine($"export {stage}: not part of this run; {folder} left as it is");
                continue;
            }
            if (record is not { Status: StageStatus.Ran or StageStatus.Reused, Key: { } key } || store.TryGet(key) is not { } entry)
            {
                var why = record.Status is StageStatus.Failed ? "failed" : $"was {record.Status.ToText()}";
                error.WriteLine($"export {stage}: not exported, the stage {why}; {folder} left as it is");
                ok = false;
                continue;
            }
            try
            {
                exporter.Export(entry, folder, force, DateTime.UtcNow);
                output.WriteLine($"exported {stage} ({Console.Formats.ShortKey(key)}, {entry.Manifest.Files.Count} files, {Console.Formats.Bytes(entry.Manifest.TotalBytes)}) to {folder}");
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                error.WriteLine($"export {stage}{(fromCommandLine ? "" : $" ({Path.GetFileName(spec.SourceFile)}: export.{stage})")}: {e.Message}");
                ok = false;
            }
        }
        return ok;
    }
}

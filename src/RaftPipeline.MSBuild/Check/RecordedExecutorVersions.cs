using RaftPipeline.Core.Runs;
using RaftPipeline.Core.Store;

namespace RaftPipeline.MSBuild.Check;

/// <summary>
/// Finds, for each stage kind, the implementation version that a given tool version uses, from what that tool
/// version wrote: the pipeline's lock files first (cheap), then the manifests in the cache (when run folders were
/// deleted but the cache kept, as CI caches often do). A kind no run of that version has built stays unknown,
/// and the pipeline is then not up to date: the tool must run and say what it reuses.
/// </summary>
static class RecordedExecutorVersions
{
    public static Dictionary<string, int> Find(IEnumerable<string> kinds, string toolVersion, RunHistory history, ArtifactStore store)
    {
        var wanted = new HashSet<string>(kinds, StringComparer.Ordinal);
        var found = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var run in history.Runs.Where(r => r.ToolVersion == toolVersion))
        foreach (var stage in run.Stages)
            if (stage.ExecutorVersion is { } v && wanted.Contains(stage.Kind))
                found.TryAdd(stage.Kind, v);
        if (found.Count == wanted.Count) return found;

        foreach (var entry in store.Entries().OrderByDescending(e => e.Manifest.CreatedUtc))
        {
            var m = entry.Manifest;
            if (m.ToolVersion == toolVersion && wanted.Contains(m.Kind)) found.TryAdd(m.Kind, m.ExecutorVersion);
            if (found.Count == wanted.Count) break;
        }
        return found;
    }
}

using System.Text.Json.Nodes;
using RaftPipeline.Core.Runs;
using RaftPipeline.Core.Store;

namespace RaftPipeline.Core.Engine;

/// <summary>
/// What a run would do, without running: each stage's key, reused when the cache has it, else the reasons it
/// must run, found by comparing with the stage's last built record in the pipeline's run history.
/// </summary>
public static class PipelinePlanner
{
    static readonly Dictionary<string, string> NoneTampered = new(StringComparer.Ordinal);

    public static IReadOnlyList<PlanEntry> Plan(IReadOnlyList<ResolvedStage> stages, ArtifactStore store, RunHistory history)
    {
        var entries = new List<PlanEntry>();
        var willRun = new HashSet<string>(StringComparer.Ordinal);
        foreach (var stage in stages)
        {
            if (store.TryGet(stage.Key) is { } entry)
            {
                // The run's cheap reuse checks: files present at their sizes, upstream content as recorded.
                var problems = CacheVerifier.CheckFiles(entry);
                var why = problems.Count > 0 ? $"its files do not match its manifest ({string.Join("; ", problems)})"
                    : CacheVerifier.UpstreamProblem(entry.Manifest, NoneTampered, key => store.TryGet(key)?.Manifest.ContentDigest);
                if (why is null)
                {
                    entries.Add(new PlanEntry(stage.Name, stage.Stage.Kind, stage.Key, true, []));
                    continue;
                }
                willRun.Add(stage.Name);
                entries.Add(new PlanEntry(stage.Name, stage.Stage.Kind, stage.Key, false, [$"cached artifact dropped: {why}"]));
                continue;
            }
            willRun.Add(stage.Name);
            entries.Add(new PlanEntry(stage.Name, stage.Stage.Kind, stage.Key, false, Reasons(stage, history.LastBuilt(stage.Name), willRun)));
        }
        return entries;
    }

    static IReadOnlyList<string> Reasons(ResolvedStage stage, (RunLock Run, StageRecord Stage)? last, HashSet<string> willRun)
    {
        if (last is not { } found) return ["never built"];
        var previous = found.Stage;
        if (previous.Key == stage.Key) return ["built before, but no longer in the cache (removed by gc or another cache)"];

        var reasons = new List<string>();
        if (previous.Kind != stage.Stage.Kind) reasons.Add($"kind changed ({previous.Kind} → {stage.Stage.Kind})");
        if (previous.ExecutorVersion is { } v && v != stage.Executor.Version)
            reasons.Add($"stage implementation changed (v{v} → v{stage.Executor.Version})");

        if (found.Run.Seed != stage.Material.Seed) reasons.Add($"seed changed ({found.Run.Seed} → {stage.Material.Seed})");
        var changed = ChangedParameters(previous.Parameters, stage.Material.Parameters, "");
        if (changed.Count > 0) reasons.Add($"new parameters: {string.Join(", ", changed)}");

        var now = stage.InputsJson();
        var upstream = new List<string>();
        var files = new List<string>();
        foreach (var slot in now.Select(p => p.Key).Union(previous.Inputs.Select(p => p.Key)).Order(StringComparer.Ordinal))
        {
            var before = previous.Inputs[slot] as JsonArray;
            var after = now[slot] as JsonArray;
            if (JsonNode.DeepEquals(before, after)) continue;
            foreach (var item in after ?? [])
            {
                if (item?["stage"]?.GetValue<string>() is { } name)
                {
                    if (!(before ?? []).Any(b => JsonNode.DeepEquals(b, item))) upstream.Add(name);
                }
                else if (item?["path"]?.GetValue<string>() is { } path)
                {
                    var sha = item["sha256"]!.GetValue<string>();
                    var old = (before ?? []).FirstOrDefault(b => b?["path"]?.GetValue<string>() == path);
                    if (old is null) files.Add($"{Path.GetFileName(path.TrimEnd('/', '\\'))} (new input in '{slot}')");
                    else if (old["sha256"]?.GetValue<string>() != sha) files.Add(Path.GetFileName(path.TrimEnd('/', '\\')));
                }
            }
            if ((before?.Count ?? 0) != (after?.Count ?? 0) && upstream.Count == 0 && files.Count == 0)
                reasons.Add($"inputs of '{slot}' changed");
        }
        if (upstream.Count > 0)
            reasons.Add($"upstream changed: {string.Join(", ", upstream.Distinct().Select(u => willRun.Contains(u) ? u : $"{u} (rebuilt elsewhere)"))}");
        if (files.Count > 0) reasons.Add($"input changed: {string.Join(", ", files.Distinct())}");
        if (reasons.Count == 0) reasons.Add("its key changed (a new key format)");
        return reasons;
    }

    /// <summary>Dotted paths of the parameters that differ, with old → new values.</summary>
    static List<string> ChangedParameters(JsonObject before, JsonObject after, string prefix)
    {
        var changes = new List<string>();
        foreach (var key in before.Select(p => p.Key).Union(after.Select(p => p.Key)).Order(StringComparer.Ordinal))
        {
            var b = before[key];
            var a = after[key];
            if (b is JsonObject bo && a is JsonObject ao)
            {
                changes.AddRange(ChangedParameters(bo, ao, $"{prefix}{key}."));
                continue;
            }
            if (CanonicalJson.Write(b) != CanonicalJson.Write(a))
                changes.Add($"{prefix}{key} {Show(b)} → {Show(a)}");
        }
        return changes;
    }

    static string Show(JsonNode? node) => node is null ? "(unset)" : CanonicalJson.Write(node);
}

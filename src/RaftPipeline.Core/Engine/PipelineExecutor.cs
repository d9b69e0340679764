using System.Diagnostics;
using System.Text.Json.Nodes;
using RaftPipeline.Core.Runs;
using RaftPipeline.Core.Spec;
using RaftPipeline.Core.Store;

namespace RaftPipeline.Core.Engine;

/// <summary>
/// Runs resolved stages one after another in topological order (one at a time: stages are GPU- or
/// memory-bound, and a sequential run is a readable log). For each stage: reuse the artifact when the store
/// has its key, else run its executor into a staging folder and publish it.
/// <para>Failure: a failing stage's dependents are skipped with an error naming it and its cause; stages that
/// do not depend on it still run (as <c>make -k</c>), so one bad branch does not waste the others' work.</para>
/// <para>Cancellation: the running stage is told through its token; nothing of it is published; every finished
/// artifact stays in the cache; the stages not reached are marked skipped.</para>
/// The lock file is rewritten after every stage, so even a killed run leaves a record of what it finished.
/// </summary>
public sealed class PipelineExecutor(ArtifactStore store, IRunObserver observer)
{
    /// <summary>
    /// Rehash reused artifacts' files against their manifests (<c>--verify</c>); a tampered entry is removed and rebuilt,
    /// and so is every entry downstream of it. Without it, reuse still checks that files exist with their sizes.
    /// </summary>
    public bool VerifyReused { get; init; }

    /// <summary>The run's <c>--set</c> overrides, recorded in the lock file.</summary>
    public IReadOnlyList<string> Overrides { get; init; } = [];

    /// <summary>
    /// Let a stage resume from the checkpoint area its key's failed or killed attempt left (<see cref="CheckpointAreas"/>);
    /// false clears the area before the stage runs (<c>--no-resume</c>).
    /// </summary>
    public bool Resume { get; init; } = true;

    public async Task<RunLock> RunAsync(
        PipelineSpec spec, IReadOnlyList<ResolvedStage> stages, IReadOnlyList<string> targets,
        DeviceKind device, RunFolder folder, RunLog log, CancellationToken cancellationToken)
    {
        if (device == DeviceKind.Auto) throw new ArgumentException("resolve 'auto' to a device before running", nameof(device));
        var records = stages.Select(s => new StageRecord(
            s.Name, s.Stage.Kind, s.Executor.Version, s.Key, StageStatus.Pending, 0, null,
            s.Material.Parameters, s.InputsJson(), new JsonObject(), null)).ToList();
        var lockFile = new RunLock(
            spec.Name, ToolInfo.Version, Path.GetFileName(spec.SourceFile), spec.Seed, RunLock.DeviceName(device),
            store.Root, targets, DateTime.UtcNow, null, "running", records) { Overrides = Overrides };
        try
        {
            lockFile.Write(folder.LockPath);

            observer.RunStarted(stages.Select(s => new PlannedStage(s.Name, s.Stage.Kind, s.Key, store.Contains(s.Key))).ToList());
            var failures = new Dictionary<string, string>(StringComparer.Ordinal); // stage → why it has no artifact
            var tampered = new Dictionary<string, string>(StringComparer.Ordinal); // key → why downstream artifacts are suspect
            var cancelled = false;

            for (var i = 0; i < stages.Count; i++)
            {
                var stage = stages[i];
                StageRecord record;
                var blockedBy = stage.UpstreamStages.FirstOrDefault(failures.ContainsKey);
                if (cancelled || cancellationToken.IsCancellationRequested)
                {
                    cancelled = true;
                    record = records[i] with { Status = StageStatus.Skipped, Error = "not run: the run was cancelled" };
                }
                else if (blockedBy is not null)
                {
                    record = records[i] with { Status = StageStatus.Skipped, Error = $"not run: upstream {failures[blockedBy]}" };
                }
                else
                {
                    var index = i;
                    void MarkRunning()
                    {
                        // A run killed now leaves a lock file that says which stage it was in.
                        records[index] = records[index] with { Status = StageStatus.Running };
                        lockFile = lockFile with { Stages = records.ToList() };
                        lockFile.Write(folder.LockPath);
                    }
                    record = await RunOneAsync(spec, stage, records[i], device, folder, log, MarkRunning, tampered, cancellationToken).ConfigureAwait(false);
                    if (record.Status == StageStatus.Cancelled) cancelled = true;
                }
                // Remember why this stage has no artifact, as the root cause its dependents will name.
                if (record.Status == StageStatus.Failed) failures[stage.Name] = $"stage '{stage.Name}' failed: {record.Error}";
                else if (record.Status == StageStatus.Skipped && blockedBy is not null) failures[stage.Name] = failures[blockedBy];
                else if (record.Status is StageStatus.Skipped or StageStatus.Cancelled) failures[stage.Name] = "the run was cancelled";
                records[i] = record;
                if (record.Status == StageStatus.Skipped) log.Write(stage.Name, record.Error ?? "skipped");
                observer.StageFinished(record);
                lockFile = lockFile with { Stages = records.ToList() };
                lockFile.Write(folder.LockPath);
            }


            var outcome = cancelled ? RunOutcome.Cancelled
                : records.Any(r => r.Status == StageStatus.Failed) ? RunOutcome.Failed
                : RunOutcome.Succeeded;
            lockFile = lockFile with { FinishedUtc = DateTime.UtcNow, Status = outcome.ToString().ToLowerInvariant(), Stages = records.ToList() };
            lockFile.Write(folder.LockPath);
            log.Write(null, $"run {lockFile.Status}");
            return lockFile;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The run folder or the cache failed under the run (a full disk, a folder made read-only): record the
            // run as failed where that is still possible, and say which folder in one line.
            var failedPath = StorageException.FailedPath(e.Message);
            var storage = e as StorageException ?? (failedPath is not null && failedPath.StartsWith(store.Root, StringComparison.Ordinal)
                ? StorageException.From("cache folder", store.Root, e)
                : StorageException.From("run folder", folder.Path, e));
            lockFile = lockFile with
            {
                FinishedUtc = DateTime.UtcNow,
                Status = "failed",
                Stages = records.Select(r => r.Status switch
                {
                    StageStatus.Running => r with { Status = StageStatus.Failed, Error = storage.Message },
                    StageStatus.Pending => r with { Status = StageStatus.Skipped, Error = $"not run: {storage.Message}" },
                    _ => r,
                }).ToList(),
            };
            lockFile.WriteFinal(folder.LockPath);
            throw storage;
        }
    }

    async Task<StageRecord> RunOneAsync(
        PipelineSpec spec, ResolvedStage stage, StageRecord record, DeviceKind device, RunFolder folder, RunLog log,
        Action markRunning, Dictionary<string, string> tampered, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var existing = store.TryGet(stage.Key);
        string? dropped = null;
        if (existing is not null && WhyNotReusable(existing, tampered) is { } why)
        {
            dropped = why;
            var message = $"cached artifact {stage.Key[..12]} dropped: {why}; running the stage again";
            log.Write(stage.Name, message);
            observer.StageLog(stage.Name, message);
            store.Remove(stage.Key);
            existing = null;
        }
        if (existing is not null)
        {
            ArtifactStore.MarkUsed(existing);
            ArtifactStore.RestoreReport(existing, folder.StageReportDirectory(stage.Name));
            folder.LinkArtifact(stage.Name, existing.DataDirectory);
            log.Write(stage.Name, $"reused {stage.Key}");
            return record with
            {
                Status = StageStatus.Reused,
                Artifact = existing.DataDirectory,
                DurationSeconds = clock.Elapsed.TotalSeconds,
                Metrics = ReadMetrics(existing),
            };
        }
        record = record with { Dropped = dropped };

        markRunning();
        observer.StageStarted(stage.Name);
        log.Write(stage.Name, $"running ({stage.Stage.Kind} v{stage.Executor.Version}, key {stage.Key})");
        var checkpoints = new CheckpointAreas(store);
        if (!Resume && checkpoints.Remove(stage.Key))
            log.Write(stage.Name, "--no-resume: removed the checkpoints an earlier attempt left; starting over");
        using var staging = store.BeginStaging(stage.Key);
        var context = new StageContext
        {
            Stage = stage.Stage,
            Inputs = stage.InputPaths(),
            OutputDirectory = staging.DataDirectory,
            ReportDirectory = folder.StageReportDirectory(stage.Name),
            Seed = spec.Seed,
            Device = device,
            Progress = new StageProgressRelay(stage.Name, observer, log),
            CheckpointDirectory = checkpoints.PathFor(stage.Key),
        };
        StageOutcome outcome;
        try
        {
            outcome = await stage.Executor.RunAsync(context, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            log.Write(stage.Name, "cancelled; nothing of this stage was published");
            return record with { Status = StageStatus.Cancelled, DurationSeconds = clock.Elapsed.TotalSeconds, Error = "cancelled while running" };
        }
        catch (Exception e)
        {
            // The stage boundary: whatever a stage throws is this stage's failure. Its message is kept as is
            // (the lock file and the console show it); the full exception goes to run.log.
            log.Write(stage.Name, $"failed: {e}");
            return record with { Status = StageStatus.Failed, DurationSeconds = clock.Elapsed.TotalSeconds, Error = Describe(e) };
        }

        ArtifactEntry entry;
        try
        {
            ArtifactStore.StageReport(staging, context.ReportDirectory);
            entry = store.Publish(staging, files => new ArtifactManifest(
                stage.Key, stage.Name, stage.Stage.Kind, stage.Executor.Version, spec.Seed,
                stage.Material.Parameters, InputsWithDigests(stage), files, DateTime.UtcNow, ToolInfo.Version, spec.Name)
            {
                Metrics = outcome.Metrics,
            });
        }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
        {
            log.Write(stage.Name, $"publishing failed: {e}");
            return record with { Status = StageStatus.Failed, DurationSeconds = clock.Elapsed.TotalSeconds, Error = $"publishing its artifact failed: {e.Message}" };
        }
        folder.LinkArtifact(stage.Name, entry.DataDirectory);
        log.Write(stage.Name, $"ran in {clock.Elapsed.TotalSeconds:0.###} s; published {entry.Manifest.Files.Count} files to {entry.EntryDirectory}");
        RemoveCheckpoints(checkpoints, stage, log);
        return record with
        {
            Status = StageStatus.Ran,
            Artifact = entry.DataDirectory,
            DurationSeconds = clock.Elapsed.TotalSeconds,
            Metrics = (JsonObject)outcome.Metrics.DeepClone(),
        };
    }

    /// <summary>
    /// Once the artifact is published its checkpoints have served: removed. A failure here costs disk space, not
    /// correctness (<c>cache gc</c> removes the area of a published key), so it is logged and the stage stays ran.
    /// </summary>
    static void RemoveCheckpoints(CheckpointAreas checkpoints, ResolvedStage stage, RunLog log)
    {
        try
        {
            if (checkpoints.Remove(stage.Key)) log.Write(stage.Name, "removed its checkpoints (the artifact is published)");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            log.Write(stage.Name, $"could not remove its checkpoints ({e.Message}); `raft cache gc` removes them");
        }
    }

    /// <summary>
    /// Why a cached entry must not be reused, or null. Always (cheap): every manifest file exists with its size, and
    /// every upstream artifact it was built from still has the content digest it recorded. With <see cref="VerifyReused"/>:
    /// its files rehash to the manifest, and no upstream artifact was found tampered earlier in this run (a stage built
    /// from a tampered input is tampered too, even when the upstream rebuilds to its old content).
    /// <paramref name="tampered"/> collects the keys found silently tampered, for the stages downstream.
    /// </summary>
    string? WhyNotReusable(ArtifactEntry entry, Dictionary<string, string> tampered)
    {
        var problems = CacheVerifier.CheckFiles(entry);
        if (problems.Count > 0) return $"its files do not match its manifest ({string.Join("; ", problems)})";
        if (VerifyReused)
        {
            var inspection = CacheVerifier.Inspect(entry.EntryDirectory);
            if (inspection.Problems.Count > 0)
            {
                if (inspection.Silent) tampered[entry.Key] = string.Join("; ", inspection.Problems);
                return $"its files do not match its manifest ({string.Join("; ", inspection.Problems)})";
            }
        }
        var upstream = CacheVerifier.UpstreamProblem(entry.Manifest, tampered, key => store.TryGet(key)?.Manifest.ContentDigest);
        if (upstream is not null) tampered[entry.Key] = upstream;
        return upstream;
    }

    /// <summary>The stage's inputs as the manifest records them: each upstream artifact with the content digest it had when read.</summary>
    JsonObject InputsWithDigests(ResolvedStage stage)
    {
        var inputs = stage.InputsJson();
        foreach (var (_, node) in inputs)
            foreach (var item in node as JsonArray ?? [])
                if (item is JsonObject o && o["key"]?.GetValue<string>() is { } key && store.TryGet(key) is { } upstream)
                    o["digest"] = upstream.Manifest.ContentDigest;
        return inputs;
    }

    /// <summary>The exception's message, with its inner exceptions' messages when they add something.</summary>
    static string Describe(Exception e)
    {
        if (e is AggregateException { InnerExceptions.Count: 1 } single) e = single.InnerException!;
        var parts = new List<string> { e.Message };
        for (var inner = e.InnerException; inner is not null; inner = inner.InnerException)
            if (!parts.Any(p => p.Contains(inner.Message, StringComparison.Ordinal))) parts.Add(inner.Message);
        return string.Join(" — ", parts);
    }

    /// <summary>A reused artifact keeps the metrics it was built with (the manifest records them).</summary>
    static JsonObject ReadMetrics(ArtifactEntry entry) => (JsonObject)entry.Manifest.Metrics.DeepClone();
}

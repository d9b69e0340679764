using RaftPipeline.Core.Runs;
using RaftPipeline.Core.Spec;
using RaftPipeline.Core.Store;

namespace RaftPipeline.Core.Engine;

/// <summary>
/// One whole run, as the CLI and the MSBuild task start it: compute every key (hashing external inputs, so a
/// missing file stops the run before anything executes), take the cache lock (waiting for another run to
/// finish, then reusing what it built), create the run folder, execute, write the lock file.
/// </summary>
public sealed class PipelineRunner(StageExecutorRegistry registry)
{
    /// <param name="ordered">The stages to run, in topological order (the closure of the targets).</param>
    /// <exception cref="RunPreparationException">A stage kind has no executor or an input cannot be hashed; nothing ran.</exception>
    /// <exception cref="CacheLockTimeoutException">Another process held the cache for longer than <see cref="RunRequest.LockTimeout"/>.</exception>
    /// <exception cref="OperationCanceledException">Cancelled while waiting for the cache lock (no run folder was made).</exception>
    /// <exception cref="StorageException">The cache or the run folder is unusable (read-only, full, not a folder...); nothing was left half-written.</exception>
    public async Task<RunResult> RunAsync(
        PipelineSpec spec, IReadOnlyList<StageSpec> ordered, RunRequest request, IRunObserver observer, CancellationToken cancellationToken)
    {
        var store = new ArtifactStore(spec.CacheDirectory);
        EnsureFolder("cache folder", store.Root);
        var memo = InputHashMemo.Open(store.Root);
        var hasher = new ExternalInputHasher(memo, request.Verify);
        var stages = new StageKeyResolver(registry, hasher, store, request.ResolveHubModel).Resolve(spec.Seed, ordered);

        using var cacheLock = await StorageAsync("cache folder", store.Root, () => CacheLock.AcquireAsync(
            store.Root, $"raft run {Path.GetFileName(spec.SourceFile)}", request.LockTimeout,
            owner => observer.Message(
                $"waiting for the cache lock on {store.Root}, held by {owner?.ToString() ?? "another process"} (up to {request.LockTimeout.TotalMinutes:0.#} min)"),
            cancellationToken)).ConfigureAwait(false);
        Storage("cache folder", store.Root, memo.Save);

        // Earlier runs of this pipeline whose process died still say "running": record them as interrupted.
        foreach (var (path, stage) in RunHistory.MarkInterrupted(RunFolder.DefaultPipelineRunsDirectory(spec)))
            observer.Message($"an earlier run was interrupted{(stage is null ? "" : $" in stage '{stage}'")} (its process died): {path}");

        var runPath = request.RunDirectory is { } explicitPath ? Path.GetFullPath(explicitPath) : RunFolder.DefaultPipelineRunsDirectory(spec);
        var folder = Storage("run folder", runPath, () => RunFolder.Create(spec, request.RunDirectory, DateTime.UtcNow));
        using var alive = Storage("run folder", folder.Path, () => RunLiveness.Hold(folder.Path));
        RunLog? log = null;
        try
        {
            if (request.ResolvedSpecYaml is not null) JsonFiles.WriteTextAtomically(folder.ResolvedSpecPath, request.ResolvedSpecYaml);
            log = new RunLog(folder.LogPath);
            log.Write(null, $"raft {ToolInfo.Version}: pipeline '{spec.Name}' from {spec.SourceFile}, cache {store.Root}, device {RunLock.DeviceName(request.Device)}");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            log?.Dispose();
            throw StorageException.From("run folder", folder.Path, e);
        }
        using (log)
        {
            observer.Message($"run folder: {folder.Path}");
            var executor = new PipelineExecutor(store, observer) { VerifyReused = request.Verify, Resume = request.Resume, Overrides = request.Overrides };
            var lockFile = await executor.RunAsync(spec, stages, request.Targets, request.Device, folder, log, cancellationToken).ConfigureAwait(false);
            return new RunResult(folder, lockFile);
        }
    }

    /// <summary>Creates a folder, or says in one line why it cannot be one.</summary>
    static void EnsureFolder(string what, string path)
    {
        if (File.Exists(path)) throw new StorageException(what, path, "a file, not a folder");
        try
        {
            Directory.CreateDirectory(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new StorageException(what, path, $"cannot be created ({StorageException.Reason(e)})", e);
        }
    }

    static T Storage<T>(string what, string path, Func<T> action)
    {
        try
        {
            return action();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw StorageException.From(what, path, e);
        }
    }

    static void Storage(string what, string path, Action action) => Storage(what, path, () => { action(); return 0; });

    static async Task<T> StorageAsync<T>(string what, string path, Func<Task<T>> action)
    {
        try
        {
            return await action().ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw StorageException.From(what, path, e);
        }
    }
}

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
    public async Task<RunResult> RunAsync(
        PipelineSpec spec, IReadOnlyList<StageSpec> ordered, RunRequest request, IRunObserver observer, CancellationToken cancellationToken)
    {
        var store = new ArtifactStore(spec.CacheDirectory);
        Directory.CreateDirectory(store.Root);
        var memo = InputHashMemo.Open(store.Root);
        var hasher = new ExternalInputHasher(memo, request.Verify);
        var stages = new StageKeyResolver(registry, hasher, store, request.ResolveHubModel).Resolve(spec.Seed, ordered);

        using var cacheLock = await CacheLock.AcquireAsync(
            store.Root, $"raft run {Path.GetFileName(spec.SourceFile)}", request.LockTimeout,
            owner => observer.Message(
                $"waiting for the cache lock on {store.Root}, held by {owner?.ToString() ?? "another process"} (up to {request.LockTimeout.TotalMinutes:0.#} min)"),
            cancellationToken).ConfigureAwait(false);
        memo.Save();

        var folder = RunFolder.Create(spec, request.RunDirectory, DateTime.UtcNow);
        if (request.ResolvedSpecYaml is not null) File.WriteAllText(folder.ResolvedSpecPath, request.ResolvedSpecYaml);
        using var log = new RunLog(folder.LogPath);
        log.Write(null, $"raft {ToolInfo.Version}: pipeline '{spec.Name}' from {spec.SourceFile}, cache {store.Root}, device {RunLock.DeviceName(request.Device)}");
        observer.Message($"run folder: {folder.Path}");
        var executor = new PipelineExecutor(store, observer) { VerifyReused = request.Verify, Resume = request.Resume, Overrides = request.Overrides };
        var lockFile = await executor.RunAsync(spec, stages, request.Targets, request.Device, folder, log, cancellationToken).ConfigureAwait(false);
        return new RunResult(folder, lockFile);
    }
}

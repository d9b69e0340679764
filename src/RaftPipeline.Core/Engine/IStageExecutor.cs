namespace RaftPipeline.Core.Engine;

/// <summary>
/// Runs one stage kind. An executor is a pure function of (its parameters, the content of its inputs) →
/// the files it writes into <see cref="StageContext.OutputDirectory"/>: it reads no clock, no current
/// directory and no environment, so the stage's key is honest.
/// </summary>
public interface IStageExecutor
{
    /// <summary>The stage kind this executor implements (load, format, analyze, ...).</summary>
    string Kind { get; }

    /// <summary>
    /// Version of the implementation. Part of the cache key: bump it whenever the output for the same inputs
    /// changes, so old artifacts are not reused.
    /// </summary>
    int Version { get; }

    Task<StageOutcome> RunAsync(StageContext context, CancellationToken cancellationToken);
}

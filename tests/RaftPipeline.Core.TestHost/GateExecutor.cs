using RaftPipeline.Core.Engine;

namespace RaftPipeline.Core.TestHost;

/// <summary>
/// A stage double that writes its files into the staging folder, then signals (a marker file holding the
/// staging path, or a callback) and waits until cancelled: the moment between write and publish, where a test
/// kills the process or cancels the run.
/// </summary>
public sealed class GateExecutor(string kind) : IStageExecutor
{
    public string Kind => kind;
    public int Version => 1;

    /// <summary>Written with the staging folder's path once the files are written.</summary>
    public string? MarkerFile { get; init; }

    /// <summary>Called with the staging folder's path once the files are written.</summary>
    public Action<string>? OnStaged { get; init; }

    public async Task<StageOutcome> RunAsync(StageContext context, CancellationToken cancellationToken)
    {
        await File.WriteAllTextAsync(Path.Combine(context.OutputDirectory, "out.txt"), "complete-looking output\n", cancellationToken);
        if (MarkerFile is not null) File.WriteAllText(MarkerFile, context.OutputDirectory);
        OnStaged?.Invoke(context.OutputDirectory);
        await Task.Delay(Timeout.Infinite, cancellationToken);
        return StageOutcome.Empty;
    }
}

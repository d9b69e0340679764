using RaftPipeline.Core.Engine;

namespace RaftPipeline.Core.TestHost;

/// <summary>A stage double that writes a partial file, then throws <paramref name="message"/>.</summary>
public sealed class FailingExecutor(string kind, string message) : IStageExecutor
{
    public string Kind => kind;
    public int Version => 1;

    public Task<StageOutcome> RunAsync(StageContext context, CancellationToken cancellationToken)
    {
        File.WriteAllText(Path.Combine(context.OutputDirectory, "partial.txt"), "half");
        throw new InvalidDataException(message);
    }
}

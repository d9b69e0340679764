namespace RaftPipeline.Core.Engine;

/// <summary>
/// The executors a run may use, one per stage kind. Core knows no concrete stage: the tool passes the shipped
/// ones (<c>RaftPipeline.Stages.StageExecutors.All()</c>), tests pass their doubles.
/// </summary>
public sealed class StageExecutorRegistry
{
    readonly Dictionary<string, IStageExecutor> _byKind = new(StringComparer.Ordinal);

    public StageExecutorRegistry(IEnumerable<IStageExecutor> executors)
    {
        foreach (var executor in executors)
            if (!_byKind.TryAdd(executor.Kind, executor))
                throw new ArgumentException(
                    $"two executors for stage kind '{executor.Kind}': {_byKind[executor.Kind].GetType().FullName} and {executor.GetType().FullName}");
    }

    public IReadOnlyCollection<string> Kinds => _byKind.Keys;

    public IStageExecutor? Find(string kind) => _byKind.GetValueOrDefault(kind);
}

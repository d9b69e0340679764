namespace RaftPipeline.Core.Engine;

/// <summary>
/// A run could not start: a stage kind has no executor, or an external input could not be hashed. Nothing was
/// executed. Lists every problem, one per line.
/// </summary>
public sealed class RunPreparationException(IReadOnlyList<string> problems)
    : Exception(string.Join(Environment.NewLine, problems))
{
    public IReadOnlyList<string> Problems { get; } = problems;
}

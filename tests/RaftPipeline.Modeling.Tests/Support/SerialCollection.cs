namespace RaftPipeline.Modeling.Tests.Support;

/// <summary>
/// Tests that measure the process (resident memory, wall time) run alone, after the parallel ones: other test
/// classes allocating on other threads would otherwise show up in their numbers.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SerialCollection
{
    public const string Name = "Serial measurements";
}

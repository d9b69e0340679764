namespace RaftPipeline.Core.Spec;

/// <summary>
/// On a stage parameter that cannot change the stage's result, only how it gets there (how often the train stage
/// writes resumable checkpoints, how many it keeps): left out of the canonical parameters, so it never enters the
/// stage's key, its manifest or its artifact, and changing it reuses what was built. The resolved spec a run folder
/// records still shows it.
/// </summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class NotInKeyAttribute : Attribute;

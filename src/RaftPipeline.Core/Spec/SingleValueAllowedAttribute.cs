namespace RaftPipeline.Core.Spec;

/// <summary>
/// On a list property: a single scalar is accepted where the list is expected and becomes a one-item list
/// (peft's <c>target_modules: all-linear</c>).
/// </summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class SingleValueAllowedAttribute : Attribute;

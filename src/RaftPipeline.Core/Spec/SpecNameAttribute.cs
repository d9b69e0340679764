namespace RaftPipeline.Core.Spec;

/// <summary>
/// The name a property or enum member has in YAML when snake_case of its C# name is not it
/// (<c>adamw_8bit</c>, <c>utf-8</c>, <c>all-linear</c>).
/// </summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class SpecNameAttribute(string name) : Attribute
{
    public string Name { get; } = name;
}

namespace RaftPipeline.Text.Templates.Jinja.Runtime;

/// <summary>jinja2's namespace(): the one object whose attributes <c>{% set ns.x = ... %}</c> may change.</summary>
public sealed class Namespace
{
    public PyDict Attributes { get; } = new();
}

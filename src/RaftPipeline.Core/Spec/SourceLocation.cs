namespace RaftPipeline.Core.Spec;

/// <summary>Where something was written: file, 1-based line and column. Every spec error carries one.</summary>
public sealed record SourceLocation(string File, int Line, int Column)
{
    public override string ToString() => $"{File}:{Line}:{Column}";
}

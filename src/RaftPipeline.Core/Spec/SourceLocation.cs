namespace RaftPipeline.Core.Spec;

/// <summary>
/// Where something was written: file, 1-based line and column. Every spec error carries one.
/// A location with <see cref="Line"/> 0 has no position inside <see cref="File"/>: a whole file, or a
/// command-line override such as <c>--set train.learning_rate</c>.
/// </summary>
public sealed record SourceLocation(string File, int Line, int Column)
{
    /// <summary>The location of a <c>--set KEY=VALUE</c> override: errors in it name <c>--set KEY</c>.</summary>
    public static SourceLocation ForOverride(string key) => new($"--set {key}", 0, 0);

    /// <summary>A whole file, with no line (e.g. a file that cannot be read).</summary>
    public static SourceLocation ForFile(string file) => new(file, 0, 0);

    public bool HasPosition => Line > 0;

    public override string ToString() => HasPosition ? $"{File}:{Line}:{Column}" : File;
}

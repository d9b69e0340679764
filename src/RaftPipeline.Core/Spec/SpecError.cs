namespace RaftPipeline.Core.Spec;

/// <summary>
/// One problem in a spec: where, which key (a dotted path such as <c>stages.train.params.learning_rate</c>;
/// empty when the problem is the file itself) and what was expected.
/// </summary>
public sealed record SpecError(SourceLocation Location, string Key, string Message)
{
    /// <summary>
    /// <c>spec.yaml:12:7: error: stages.train.params.learning_rat: unknown key; did you mean 'learning_rate'?</c>,
    /// the compilers' format, so editors and CI logs link to the line.
    /// </summary>
    public override string ToString() =>
        Key.Length == 0 ? $"{Location}: error: {Message}" : $"{Location}: error: {Key}: {Message}";
}

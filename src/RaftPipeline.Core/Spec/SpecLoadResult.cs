using System.Diagnostics.CodeAnalysis;

namespace RaftPipeline.Core.Spec;

/// <summary>Either a valid <see cref="PipelineSpec"/> or every problem found in it, never both.</summary>
public sealed class SpecLoadResult
{
    SpecLoadResult(PipelineSpec? spec, IReadOnlyList<SpecError> errors)
    {
        Spec = spec;
        Errors = errors;
    }

    public PipelineSpec? Spec { get; }

    /// <summary>All problems, in the order they appear (file positions first, then overrides).</summary>
    public IReadOnlyList<SpecError> Errors { get; }

    [MemberNotNullWhen(true, nameof(Spec))]
    public bool IsValid => Spec is not null;

    public static SpecLoadResult Success(PipelineSpec spec) => new(spec, []);

    public static SpecLoadResult Failure(IReadOnlyList<SpecError> errors) =>
        errors.Count == 0 ? throw new ArgumentException("a failure needs at least one error", nameof(errors)) : new(null, errors);

    /// <summary>The spec, or an exception listing every error (for callers that cannot report errors themselves).</summary>
    public PipelineSpec GetSpecOrThrow() =>
        Spec ?? throw new SpecException(Errors);
}

/// <summary>Thrown by <see cref="SpecLoadResult.GetSpecOrThrow"/>: its message lists every error, one per line.</summary>
public sealed class SpecException(IReadOnlyList<SpecError> errors)
    : Exception(string.Join(Environment.NewLine, errors))
{
    public IReadOnlyList<SpecError> Errors { get; } = errors;
}

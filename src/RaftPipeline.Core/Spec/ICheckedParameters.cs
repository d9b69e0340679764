namespace RaftPipeline.Core.Spec;

/// <summary>
/// A parameter record (or a nested record) whose rules span several fields, beyond what attributes say
/// (e.g. a probe prompt needs either <c>text</c> or <c>question</c>). Called after binding, only when every
/// field bound cleanly.
/// </summary>
public interface ICheckedParameters
{
    /// <summary>Problems found. <see cref="ParameterProblem.Key"/> is the YAML key inside this record, or empty for the record itself.</summary>
    IEnumerable<ParameterProblem> Check();
}

/// <summary>A cross-field problem: the YAML key it concerns (inside the record that found it) and what was expected.</summary>
public sealed record ParameterProblem(string Key, string Message);

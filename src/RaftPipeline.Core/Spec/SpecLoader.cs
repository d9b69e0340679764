using RaftPipeline.Core.Spec.Internal;

namespace RaftPipeline.Core.Spec;

/// <summary>
/// Reads a pipeline spec: YAML → overrides applied → <c>${vars.x}</c> substituted → typed records bound →
/// inputs resolved → graph checked. Validation is strict and complete: the result holds either a valid
/// <see cref="PipelineSpec"/> or every problem found, each with file:line:column, the key and what was expected.
/// Nothing here runs a stage.
/// </summary>
public static class SpecLoader
{
    /// <summary>The top-level keys of a spec, in the order the docs list them.</summary>
    public static IReadOnlyList<string> TopLevelKeys { get; } = ["name", "seed", "device", "cache", "vars", "export", "stages"];

    /// <summary>Loads <paramref name="specPath"/>; errors name the file as given here (relative stays relative).</summary>
    /// <param name="overrides"><c>KEY=VALUE</c> strings from <c>--set</c>, applied in order.</param>
    public static SpecLoadResult Load(string specPath, IReadOnlyList<string>? overrides = null)
    {
        string text;
        if (Directory.Exists(specPath))
        {
            var inside = Path.Combine(specPath, "pipeline.yaml");
            return SpecLoadResult.Failure([new SpecError(SourceLocation.ForFile(specPath), "",
                "is a folder; expected a pipeline spec file (YAML)" + (File.Exists(inside) ? $": did you mean {inside}?" : ""))]);
        }
        try
        {
            text = File.ReadAllText(specPath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            var reason = e is FileNotFoundException or DirectoryNotFoundException ? "file not found" : e.Message;
            return SpecLoadResult.Failure([new SpecError(SourceLocation.ForFile(specPath), "", $"cannot read the spec: {reason}")]);
        }
        return LoadText(text, specPath, overrides);
    }

    /// <summary>
    /// Loads spec text as if it were the file <paramref name="specPath"/>: relative paths resolve against that
    /// file's folder and errors name it. The file itself need not exist.
    /// </summary>
    public static SpecLoadResult LoadText(string yaml, string specPath, IReadOnlyList<string>? overrides = null) =>
        new SpecCompiler(specPath).Compile(yaml, overrides ?? []);
}

namespace RaftPipeline.Cli.Commands.Run;

/// <summary>
/// The spec a verb works on when the command line names none: <c>./pipeline.yaml</c> (what <c>raft init</c> writes).
/// <c>raft run train</c> in a folder with pipeline.yaml means the stage <c>train</c> of that spec, not a spec file named
/// "train": a first word that is neither a file nor a folder nor ends in .yaml/.yml is taken as a stage then.
/// </summary>
public static class DefaultSpec
{
    public const string FileName = "pipeline.yaml";

    /// <summary>The spec path and stage names from a verb's positional arguments.</summary>
    public static (string Spec, string[] Stages) Resolve(string? spec, IReadOnlyList<string> stages)
    {
        if (spec is null) return (FileName, [.. stages]);
        bool looksLikeStage = !File.Exists(spec) && !Directory.Exists(spec) &&
                              !spec.EndsWith(".yaml", StringComparison.OrdinalIgnoreCase) && !spec.EndsWith(".yml", StringComparison.OrdinalIgnoreCase);
        return looksLikeStage && File.Exists(FileName) ? (FileName, [spec, .. stages]) : (spec, [.. stages]);
    }
}

namespace RaftPipeline.MSBuild.Check;

/// <summary>What to check: a spec as one build item declares it, and the tool version that would run it.</summary>
/// <param name="Overrides"><c>KEY=VALUE</c> overrides, applied as <c>--set</c> would apply them (they change keys).</param>
/// <param name="Targets">Stage names to build (and what they need); empty: every stage.</param>
/// <param name="RunsDirectory">The folder holding this pipeline's run folders; null: <c>runs/&lt;pipeline&gt;/</c> beside the spec.</param>
/// <param name="ToolVersion">Version of the tool that would run the pipeline: artifacts are trusted only through
/// records that this version wrote, since the stage implementations' versions (part of every key) come with it.</param>
public sealed record PipelineCheckRequest(
    string SpecPath,
    IReadOnlyList<string> Overrides,
    IReadOnlyList<string> Targets,
    string? RunsDirectory,
    string ToolVersion);

using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;
using RaftPipeline.MSBuild.Check;

namespace RaftPipeline.MSBuild.Tasks;

/// <summary>
/// The in-process up-to-date check of one RaftPipeline item (Core only: never TorchSharp, never a process).
/// When every stage is cached it logs "RaftPipeline: SPEC is up to date (N stages cached)" and returns the
/// final artifacts as items; otherwise it says why the tool must run.
/// </summary>
public sealed class RaftCheckPipeline : Microsoft.Build.Utilities.Task
{
    [Required] public string Spec { get; set; } = "";
    public string[] Overrides { get; set; } = [];
    public string[] Stages { get; set; } = [];
    public string? RunDirectory { get; set; }
    /// <summary>RaftToolVersion: the tool version to trust records of; empty: found as <see cref="ToolVersionResolver"/> says.</summary>
    public string? ToolVersion { get; set; }
    /// <summary>Whether the tool starts through <c>dotnet raft</c> (a local tool manifest may pin its version).</summary>
    public bool ThroughLocalManifest { get; set; }
    public string ProjectDirectory { get; set; } = "";
    public string? OutputFolder { get; set; }
    public string? CopyToOutputDirectory { get; set; }

    [Output] public bool UpToDate { get; private set; }
    [Output] public string Pipeline { get; private set; } = "";
    /// <summary>The folder this build's run folder goes under (the item's RunDir, or runs/&lt;pipeline&gt;/ beside the spec).</summary>
    [Output] public string RunsDirectory { get; private set; } = "";
    [Output] public int StageCount { get; private set; }
    [Output] public int CachedStageCount { get; private set; }
    [Output] public string ResolvedToolVersion { get; private set; } = "";
    /// <summary>When up to date: the final stages' files (RaftPipelineOutput items).</summary>
    [Output] public ITaskItem[] Outputs { get; private set; } = [];

    public override bool Execute()
    {
        var (version, source) = ToolVersionResolver.Resolve(ToolVersion, ThroughLocalManifest, ProjectDirectory.Length > 0 ? ProjectDirectory : Environment.CurrentDirectory);
        ResolvedToolVersion = version;
        Log.LogMessage(MessageImportance.Low, $"RaftPipeline: tool version {version} (from {source})");

        var result = PipelineCheck.Run(new PipelineCheckRequest(Spec, Clean(Overrides), Clean(Stages), RunDirectory, version));
        UpToDate = result.UpToDate;
        Pipeline = result.Pipeline ?? "";
        RunsDirectory = result.RunsDirectory ?? "";
        StageCount = result.Stages.Count;
        CachedStageCount = result.CachedCount;
        if (result.UpToDate)
        {
            Log.LogMessage(MessageImportance.High, $"RaftPipeline: {Spec} is up to date ({result.CachedCount} stage{(result.CachedCount == 1 ? "" : "s")} cached)");
            Outputs = OutputItems.Create(Pipeline, result.Stages.Where(s => s.Final).Select(s => (s.Name, s.Key, s.ArtifactDirectory)), OutputFolder, CopyToOutputDirectory);
        }
        else
        {
            Log.LogMessage(MessageImportance.High, $"RaftPipeline: {Spec} needs a run: {result.Reason}");
        }
        return true;
    }

    internal static string[] Clean(string[]? values) =>
        (values ?? []).Select(v => v.Trim()).Where(v => v.Length > 0).ToArray();
}

using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace RaftPipeline.MSBuild.Tasks;

/// <summary>
/// The files of the final stages' artifacts as <c>RaftPipelineOutput</c> items. Each carries where it comes from
/// (Pipeline, Stage, Key, RelativePath) and where it goes in the output folder
/// (TargetPath = OutputFolder/stage/relative path), with the pipeline item's CopyToOutputDirectory.
/// </summary>
static class OutputItems
{
    public static ITaskItem[] Create(string pipeline, IEnumerable<(string Stage, string Key, string DataDirectory)> finals, string? outputFolder, string? copyToOutputDirectory)
    {
        var folder = outputFolder is { Length: > 0 } f ? f.TrimEnd('/', '\\') : pipeline;
        var items = new List<ITaskItem>();
        foreach (var (stage, key, data) in finals.OrderBy(s => s.Stage, StringComparer.Ordinal))
        {
            if (!Directory.Exists(data)) continue;
            foreach (var file in Directory.EnumerateFiles(data, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
            {
                var relative = Path.GetRelativePath(data, file);
                var item = new TaskItem(file);
                item.SetMetadata("Pipeline", pipeline);
                item.SetMetadata("Stage", stage);
                item.SetMetadata("Key", key);
                item.SetMetadata("ArtifactDirectory", data);
                item.SetMetadata("RelativePath", relative);
                item.SetMetadata("TargetPath", Path.Combine(folder, stage, relative));
                item.SetMetadata("CopyToOutputDirectory", copyToOutputDirectory ?? "");
                items.Add(item);
            }
        }
        return items.ToArray();
    }
}

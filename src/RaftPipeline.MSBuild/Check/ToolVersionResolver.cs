using System.Text.Json;
using RaftPipeline.Core.Engine;

namespace RaftPipeline.MSBuild.Check;

/// <summary>
/// Which tool version will run the pipeline, found without starting it: the RaftToolVersion property when set;
/// else, when the tool is started as <c>dotnet raft</c>, the version the nearest local tool manifest pins for
/// RaftPipeline.Cli; else this package's own version (the tool and this package are released together).
/// </summary>
public static class ToolVersionResolver
{
    public const string ToolPackageId = "raftpipeline.cli";

    public static (string Version, string Source) Resolve(string? explicitVersion, bool throughLocalManifest, string projectDirectory)
    {
        if (explicitVersion is { Length: > 0 }) return (explicitVersion, "RaftToolVersion");
        if (throughLocalManifest && FindManifestVersion(projectDirectory) is { } pinned) return pinned;
        return (ToolInfo.Version, "the RaftPipeline.MSBuild package's version");
    }

    /// <summary>
    /// Walks up from <paramref name="directory"/> as <c>dotnet tool run</c> does: in each folder
    /// <c>.config/dotnet-tools.json</c>, then <c>dotnet-tools.json</c>; stops after a manifest marked isRoot.
    /// </summary>
    public static (string Version, string Source)? FindManifestVersion(string directory)
    {
        for (var dir = new DirectoryInfo(Path.GetFullPath(directory)); dir is not null; dir = dir.Parent)
        {
            foreach (var candidate in new[] { Path.Combine(dir.FullName, ".config", "dotnet-tools.json"), Path.Combine(dir.FullName, "dotnet-tools.json") })
            {
                if (!File.Exists(candidate)) continue;
                using var json = JsonDocument.Parse(File.ReadAllText(candidate), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
                if (json.RootElement.TryGetProperty("tools", out var tools))
                    foreach (var tool in tools.EnumerateObject())
                        if (string.Equals(tool.Name, ToolPackageId, StringComparison.OrdinalIgnoreCase)
                            && tool.Value.TryGetProperty("version", out var v) && v.GetString() is { Length: > 0 } version)
                            return (version, candidate);
                if (json.RootElement.TryGetProperty("isRoot", out var root) && root.ValueKind == JsonValueKind.True) return null;
            }
        }
        return null;
    }
}

using System.Reflection;

namespace RaftPipeline.Core.Engine;

/// <summary>The tool's version as recorded in manifests and lock files.</summary>
public static class ToolInfo
{
    public static string Version { get; } =
        typeof(ToolInfo).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
            .Split('+')[0] ?? "0.0.0";
}

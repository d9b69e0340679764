using RaftPipeline.Core.Engine;
using RaftPipeline.MSBuild.Check;
using RaftPipeline.MSBuild.Tests.Infrastructure;

namespace RaftPipeline.MSBuild.Tests.Check;

public sealed class ToolVersionResolverTests : IDisposable
{
    readonly TempFolder folder = new();

    [Fact]
    public void The_property_wins()
    {
        folder.File(".config/dotnet-tools.json", """{ "version": 1, "isRoot": true, "tools": { "raftpipeline.cli": { "version": "1.2.3" } } }""");
        Assert.Equal(("4.5.6", "RaftToolVersion"), ToolVersionResolver.Resolve("4.5.6", true, folder.Path));
    }

    [Fact]
    public void The_nearest_manifest_pins_the_local_tool()
    {
        var manifest = folder.File("dotnet-tools.json", """{ "version": 1, "isRoot": true, "tools": { "RaftPipeline.Cli": { "version": "1.2.3", "commands": ["dotnet-raft"] } } }""");
        Directory.CreateDirectory(Path.Combine(folder.Path, "src", "app"));
        Assert.Equal(("1.2.3", manifest), ToolVersionResolver.Resolve(null, true, Path.Combine(folder.Path, "src", "app")));
    }

    [Fact]
    public void A_root_manifest_without_the_tool_stops_the_search()
    {
        folder.File("dotnet-tools.json", """{ "version": 1, "tools": { "raftpipeline.cli": { "version": "1.2.3" } } }""");
        folder.File("app/.config/dotnet-tools.json", """{ "version": 1, "isRoot": true, "tools": {} }""");
        Assert.Null(ToolVersionResolver.FindManifestVersion(Path.Combine(folder.Path, "app")));
        Assert.Equal((ToolInfo.Version, "the RaftPipeline.MSBuild package's version"), ToolVersionResolver.Resolve(null, true, Path.Combine(folder.Path, "app")));
    }

    [Fact]
    public void An_explicit_tool_path_ignores_the_manifest()
    {
        folder.File("dotnet-tools.json", """{ "version": 1, "isRoot": true, "tools": { "raftpipeline.cli": { "version": "1.2.3" } } }""");
        Assert.Equal(ToolInfo.Version, ToolVersionResolver.Resolve("", false, folder.Path).Version);
    }

    public void Dispose() => folder.Dispose();
}

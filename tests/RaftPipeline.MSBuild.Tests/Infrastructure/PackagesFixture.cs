using RaftPipeline.Core.Engine;

namespace RaftPipeline.MSBuild.Tests.Infrastructure;

/// <summary>
/// Packs the two packages once per test run (the tool package takes ~40 s and ~320 MB) into a temporary feed,
/// and installs the tool into a temporary tool path. Each is made on first use, so a filtered run pays only for
/// what it needs. Everything lives under one temp folder, deleted at the end.
/// </summary>
public sealed class PackagesFixture : IDisposable
{
    static readonly TimeSpan PackTimeout = TimeSpan.FromMinutes(5);

    readonly TempFolder root = new("raft-msbuild-e2e");
    readonly Lazy<string> msbuildFeed;
    readonly Lazy<string> toolDirectory;

    public PackagesFixture()
    {
        msbuildFeed = new Lazy<string>(() => Pack("src/RaftPipeline.MSBuild", "msbuild-feed"), LazyThreadSafetyMode.ExecutionAndPublication);
        toolDirectory = new Lazy<string>(InstallTool, LazyThreadSafetyMode.ExecutionAndPublication);
    }

    /// <summary>The version both packages carry (one version for the repository, from Directory.Build.props).</summary>
    public static string Version => ToolInfo.Version;

    public string Root => root.Path;

    /// <summary>A folder feed holding RaftPipeline.MSBuild.&lt;Version&gt;.nupkg.</summary>
    public string MSBuildFeed => msbuildFeed.Value;

    /// <summary>The tool path RaftPipeline.Cli was installed into (holds the dotnet-raft command).</summary>
    public string ToolDirectory => toolDirectory.Value;

    string Pack(string project, string feedName)
    {
        var feed = Path.Combine(root.Path, feedName);
        var result = Processes.Dotnet(Repo.Root, PackTimeout, null, "pack", project, "-c", "Release", "-o", feed, "-nologo", "-v:q");
        Assert.True(result.ExitCode == 0, $"dotnet pack {project} failed: {result}");
        return feed;
    }

    string InstallTool()
    {
        var feed = Pack("src/RaftPipeline.Cli", "tool-feed");
        Assert.True(File.Exists(Path.Combine(feed, $"RaftPipeline.Cli.{Version}.nupkg")), $"no RaftPipeline.Cli.{Version}.nupkg in {feed}");
        var tools = Path.Combine(root.Path, "tools");
        // A private packages folder: a package of the same version packed earlier must not be taken from the global cache.
        var env = new Dictionary<string, string> { ["NUGET_PACKAGES"] = Path.Combine(root.Path, "nuget-packages") };
        var result = Processes.Dotnet(root.Path, PackTimeout, env,
            "tool", "install", "RaftPipeline.Cli", "--tool-path", tools, "--add-source", feed, "--version", Version);
        Assert.True(result.ExitCode == 0, $"dotnet tool install failed: {result}");
        return tools;
    }

    public void Dispose() => root.Dispose();
}

[CollectionDefinition(Name)]
public sealed class PackagesCollection : ICollectionFixture<PackagesFixture>
{
    public const string Name = "packages";
}

using RaftPipeline.Cli.Artifacts;
using RaftPipeline.Cli.Console;
using RaftPipeline.Hub;
using RaftPipeline.Hub.Download;

namespace RaftPipeline.Cli.Models;

/// <summary>
/// The one place the verbs turn a model option (<c>--model</c>, <c>--base</c>, <c>--adapter</c>) into a folder:
/// <c>SPEC:STAGE</c> is that stage's artifact in the spec's cache (<see cref="StageArtifactResolver"/>); a path that
/// exists is used as it is; otherwise <c>org/name</c> or <c>org/name@revision</c> is a Hugging Face model id,
/// found in the shared HF cache or downloaded into it (HF_ENDPOINT, HF_TOKEN, HF_HOME/HF_HUB_CACHE, HF_HUB_OFFLINE);
/// anything else is left as given, for the verb's own "folder not found".
/// </summary>
public static class ModelArguments
{
    /// <summary>The resolved folders in the order given (null where the option was absent), or the first problem.</summary>
    public sealed record Resolution(IReadOnlyList<string?> Paths, string? Problem);

    public static Resolution Resolve(TextWriter error, params (string Option, string? Value)[] options)
    {
        var paths = new List<string?>();
        HubModelResolver? resolver = null;
        foreach (var (option, value) in options)
        {
            // SPEC:STAGE (pipeline.yaml:merged): that stage's artifact in the spec's cache.
            if (value is not null && StageArtifactResolver.TryParse(value, out _, out _))
            {
                if (!StageArtifactResolver.TryFolder(option, value, out var artifact, out var problem)) return new Resolution(paths, problem);
                paths.Add(artifact);
                continue;
            }
            if (value is null || File.Exists(value) || Directory.Exists(value) || !HubModelId.TryParse(value, out var id))
            {
                paths.Add(value);
                continue;
            }
            resolver ??= CreateResolver(new HubProgressRenderer(error));
            try
            {
                paths.Add(resolver.Resolve(id).Folder);
            }
            catch (HubException e)
            {
                return new Resolution(paths, $"{option}: '{value}' is no local folder, so it was taken as a Hugging Face model id: {e.Message}");
            }
        }
        return new Resolution(paths, null);
    }

    /// <summary>Settings from the environment, as huggingface_hub reads them.</summary>
    public static HubModelResolver CreateResolver(IHubProgress progress) => new(HubSettings.FromEnvironment(), progress);

    /// <summary>For a pipeline: resolve model-id inputs, downloading (run) or only naming the commit (plan).</summary>
    public static Func<HubModelId, HubSnapshot> ForPipeline(IHubProgress progress, bool download)
    {
        HubModelResolver? resolver = null; // the environment is read only when a spec names a model id
        return id => (resolver ??= CreateResolver(progress)).Resolve(id, download);
    }
}

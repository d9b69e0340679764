using System.Text.RegularExpressions;
using RaftPipeline.Core.Engine;
using RaftPipeline.Core.Graph;
using RaftPipeline.Core.Spec;
using RaftPipeline.Core.Store;
using RaftPipeline.Stages;

namespace RaftPipeline.Cli.Artifacts;

/// <summary>
/// <c>SPEC:STAGE</c> (e.g. <c>pipeline.yaml:merged</c>) → that stage's artifact in the spec's cache, found the way the
/// MSBuild up-to-date check finds it: the stage's key is computed from the spec as written (its parameters, the
/// content hashes of its files, its upstream keys, this build's stage versions) and looked up; nothing runs. Used by
/// the model options of every verb (through <see cref="Models.ModelArguments"/>: <c>--model</c>, <c>--base</c>,
/// <c>--adapter</c>) and by <c>cache pin</c>.
/// </summary>
public static partial class StageArtifactResolver
{
    [GeneratedRegex("^[a-z][a-z0-9_-]*$")]
    private static partial Regex StageName();

    /// <summary>What a reference resolved to: the stage's key, and its entry when the cache has it.</summary>
    public sealed record Resolved(string SpecPath, string Stage, string Kind, string Key, string CacheRoot, ArtifactEntry? Entry);

    /// <summary>
    /// True when <paramref name="text"/> reads as <c>SPEC:STAGE</c>: not an existing folder, a stage name after the
    /// last ':', and before it a .yaml/.yml path or an existing file (so <c>C:\models</c> stays a path).
    /// </summary>
    public static bool TryParse(string text, out string specPath, out string stage)
    {
        specPath = stage = "";
        var colon = text.LastIndexOf(':');
        if (colon <= 0 || Directory.Exists(text)) return false;
        var spec = text[..colon];
        var name = text[(colon + 1)..];
        if (!StageName().IsMatch(name)) return false;
        if (!spec.EndsWith(".yaml", StringComparison.OrdinalIgnoreCase) && !spec.EndsWith(".yml", StringComparison.OrdinalIgnoreCase) && !File.Exists(spec))
            return false;
        (specPath, stage) = (spec, name);
        return true;
    }

    /// <summary>Computes the stage's key and looks it up; the problem is a sentence naming the spec and the stage.</summary>
    public static Resolved? Resolve(string specPath, string stage, out string? problem)
    {
        problem = null;
        if (!File.Exists(specPath))
        {
            problem = $"spec not found: {specPath}";
            return null;
        }
        var loaded = SpecLoader.Load(specPath);
        if (!loaded.IsValid)
        {
            problem = $"{specPath} has {loaded.Errors.Count} error{(loaded.Errors.Count == 1 ? "" : "s")}, the first: {loaded.Errors[0]}";
            return null;
        }
        var spec = loaded.Spec;
        var graph = PipelineGraph.Build(spec);
        if (graph.UnknownTargets([stage]) is { Count: > 0 } unknown)
        {
            problem = $"{specPath}: {unknown[0]}";
            return null;
        }
        var store = new ArtifactStore(spec.CacheDirectory);
        var memo = InputHashMemo.Open(store.Root);
        IReadOnlyList<ResolvedStage> resolved;
        try
        {
            resolved = new StageKeyResolver(new StageExecutorRegistry(StageExecutors.All()), new ExternalInputHasher(memo), store)
                .Resolve(spec.Seed, graph.Closure([stage]));
        }
        catch (RunPreparationException e)
        {
            problem = e.Problems[0];
            return null;
        }
        if (Directory.Exists(store.Root)) memo.Save();
        var target = resolved.Single(r => r.Name == stage);
        return new Resolved(specPath, stage, target.Stage.Kind, target.Key, store.Root, store.TryGet(target.Key));
    }

    /// <summary>
    /// The folder a model option names as <c>SPEC:STAGE</c>: the stage's artifact, when it is what the option takes
    /// (<c>--adapter</c>: a peft adapter folder, adapter_config.json; any other option: a model folder, config.json).
    /// False, with the problem (naming the option), when the stage is not built or holds something else.
    /// </summary>
    public static bool TryFolder(string option, string value, out string folder, out string? problem)
    {
        folder = value;
        problem = null;
        if (!TryParse(value, out var specPath, out var stage)) return true;
        if (Resolve(specPath, stage, out problem) is not { } found)
        {
            problem = $"{option} {value}: {problem}";
            return false;
        }
        if (found.Entry is null)
        {
            problem = $"{option} {value}: stage '{stage}' ({found.Kind}, key {found.Key[..12]}) is not built in {found.CacheRoot}; " +
                      $"build it first: dotnet raft run {specPath} {stage}";
            return false;
        }
        var data = found.Entry.DataDirectory;
        var isAdapter = File.Exists(Path.Combine(data, "adapter_config.json"));
        var isModel = File.Exists(Path.Combine(data, "config.json"));
        if (option == "--adapter" ? isAdapter : isModel)
        {
            folder = data;
            return true;
        }
        problem = option == "--adapter"
            ? isModel
                ? $"{option} {value}: stage '{stage}' ({found.Kind}) holds a model, not a LoRA adapter; give it as --model"
                : $"{option} {value}: stage '{stage}' ({found.Kind}) holds no adapter (no adapter_config.json in {data})"
            : isAdapter
                ? $"{option} {value}: stage '{stage}' ({found.Kind}) holds a LoRA adapter, not a model; give it as --adapter and its base model as --model"
                : $"{option} {value}: stage '{stage}' ({found.Kind}) holds no model folder (no config.json in {data})";
        return false;
    }
}

using RaftPipeline.Cli.Commands.Run;
using RaftPipeline.Cli.Console;
using RaftPipeline.Core.Engine;
using RaftPipeline.Core.Spec;
using RaftPipeline.Core.TestHost;

namespace RaftPipeline.Cli.Tests.Run;

/// <summary>A spec in a temp folder with the files it names, and the run/plan commands over echo doubles.</summary>
public sealed class CliPipeline : IDisposable
{
    public const string Spec = """
        name: demo
        seed: 7
        device: cpu
        stages:
          rows:
            kind: load
            inputs: { files: [data/rag.csv] }
          chat:
            kind: format
            inputs: { data: rows, model: models/tiny }
            params: { system_prompt: Answer rudely. }
          stats:
            kind: analyze
            inputs: { data: chat, model: models/tiny }
        """;

    public CliPipeline(string spec = Spec)
    {
        Folder = Path.Combine(Path.GetTempPath(), "raft-cli-tests", Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(Path.Combine(Folder, "data"));
        Directory.CreateDirectory(Path.Combine(Folder, "models", "tiny"));
        File.WriteAllText(Path.Combine(Folder, "data", "rag.csv"), "context,question,cot\n하늘,색은?,파랑\n");
        File.WriteAllText(Path.Combine(Folder, "models", "tiny", "config.json"), "{}");
        SpecPath = Path.Combine(Folder, "pipeline.yaml");
        File.WriteAllText(SpecPath, spec);
    }

    public string Folder { get; }
    public string SpecPath { get; }
    public string Cache => Path.Combine(Folder, ".raft-cache");
    public string RunsOfPipeline => Path.Combine(Folder, "runs", "demo");

    public static IReadOnlyList<IStageExecutor> Echoes() =>
        StageKindCatalog.Kinds.Select(k => (IStageExecutor)new EchoExecutor(k.Name)).ToList();

    /// <summary>Echo doubles carrying the shipped executors' versions, so their keys are the ones the tool computes.</summary>
    public static IReadOnlyList<IStageExecutor> EchoesWithShippedVersions() =>
        RaftPipeline.Stages.StageExecutors.All().Select(e => (IStageExecutor)new EchoExecutor(e.Kind, e.Version)).ToList();

    public sealed record Outcome(int Exit, string Output, string Error);

    public async Task<Outcome> RunAsync(
        RunOptions options, IReadOnlyList<IStageExecutor>? executors = null, bool cudaAvailable = false,
        CancellationToken cancellationToken = default)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var plain = new PlainRunRenderer(output);
        var exit = await new RunCommand(executors ?? Echoes(), () => cudaAvailable)
            .RunAsync(options, output, error, run => run(plain), cancellationToken);
        return new Outcome(exit, output.ToString(), error.ToString());
    }

    public Task<Outcome> RunAsync(params string[] targets) => RunAsync(new RunOptions(SpecPath, targets, []));

    /// <summary>The run folders of the pipeline, oldest first.</summary>
    public IReadOnlyList<string> Runs() =>
        Directory.Exists(RunsOfPipeline) ? Directory.GetDirectories(RunsOfPipeline).Order(StringComparer.Ordinal).ToList() : [];

    public void Dispose()
    {
        foreach (var file in Directory.EnumerateFiles(Folder, "*", SearchOption.AllDirectories))
            File.SetAttributes(file, FileAttributes.Normal);
        Directory.Delete(Folder, recursive: true);
    }
}

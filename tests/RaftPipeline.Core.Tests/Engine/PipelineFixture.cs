using RaftPipeline.Core.Engine;
using RaftPipeline.Core.Runs;
using RaftPipeline.Core.Spec;
using RaftPipeline.Core.Store;
using RaftPipeline.Core.TestHost;

namespace RaftPipeline.Core.Tests.Engine;

/// <summary>A temp folder with data.csv, a model folder, a cache, and the diamond test pipeline over them.</summary>
public sealed class PipelineFixture : IDisposable
{
    public PipelineFixture()
    {
        DataFile = Folder.Write("data.csv", "context,question,cot\nsky,color?,blue\n");
        ModelFolder = Path.GetDirectoryName(Folder.Write("model/config.json", """{"model_type":"qwen3"}"""))!;
        Folder.Write("model/tokenizer.json", "{}");
        Cache = Folder["cache"];
    }

    public TempFolder Folder { get; } = new();
    public string DataFile { get; }
    public string ModelFolder { get; }
    public string Cache { get; }

    public PipelineSpec Spec(IReadOnlyDictionary<string, EchoParameters>? parameters = null, long seed = 1234) =>
        TestPipelines.Diamond(Folder.Path, Cache, DataFile, ModelFolder, parameters, seed);

    public static IReadOnlyList<IStageExecutor> Echoes() => TestPipelines.Kinds.Select(k => (IStageExecutor)new EchoExecutor(k)).ToList();

    int _runs;

    /// <summary>Runs the whole pipeline into run folder runs/N and returns the result.</summary>
    public Task<RunResult> RunAsync(
        PipelineSpec spec, IEnumerable<IStageExecutor>? executors = null, CancellationToken cancellationToken = default,
        IRunObserver? observer = null, bool verify = false, bool resume = true) =>
        new PipelineRunner(new StageExecutorRegistry(executors ?? Echoes())).RunAsync(
            spec, spec.Stages,
            new RunRequest { RunDirectory = Folder[$"runs/{++_runs}"], Verify = verify, Resume = resume, ResolvedSpecYaml = "name: diamond\n" },
            observer ?? NullRunObserver.Instance, cancellationToken);

    public ArtifactStore Store => new(Cache);

    public static Dictionary<string, StageStatus> Statuses(RunLock l) => l.Stages.ToDictionary(s => s.Name, s => s.Status);

    public void Dispose() => Folder.Dispose();
}

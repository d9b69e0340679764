using RaftPipeline.Core.Engine;
using RaftPipeline.Core.Graph;
using RaftPipeline.Core.Spec;

// `fake-raft run SPEC [STAGE...] [--set K=V]... [--run-dir DIR]` and `fake-raft --version`.
// Every call is appended to tool-calls.log beside the spec, so a test can tell whether a build started the tool.
if (args is ["--version"])
{
    Console.WriteLine(ToolInfo.Version);
    return 0;
}
if (args.Length < 2 || args[0] != "run")
{
    Console.Error.WriteLine("error: usage: fake-raft run SPEC [STAGE...] [--set K=V]... [--run-dir DIR]");
    return 2;
}

var spec = args[1];
var targets = new List<string>();
var overrides = new List<string>();
string? runDir = null;
for (var i = 2; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--set": overrides.Add(args[++i]); break;
        case "--run-dir": runDir = args[++i]; break;
        default: targets.Add(args[i]); break;
    }
}
File.AppendAllText(Path.Combine(Path.GetDirectoryName(Path.GetFullPath(spec))!, "tool-calls.log"), string.Join(' ', args) + "\n");

var loaded = SpecLoader.Load(spec, overrides);
if (!loaded.IsValid)
{
    foreach (var e in loaded.Errors) Console.Error.WriteLine(e);
    Console.Error.WriteLine($"{loaded.Errors.Count} error(s); nothing was run.");
    return 2;
}
var graph = PipelineGraph.Build(loaded.Spec);
var ordered = targets.Count == 0 ? graph.TopologicalOrder : graph.Closure(targets);
var runner = new PipelineRunner(new StageExecutorRegistry([new CopyFilesExecutor()]));
var result = await runner.RunAsync(loaded.Spec, ordered, new RunRequest { Targets = targets, RunDirectory = runDir }, new PlainLines(), CancellationToken.None);
return result.Outcome == RunOutcome.Succeeded ? 0 : 1;

/// <summary>The test `load`: copies its files into the artifact; a file holding a line "FAIL" makes it throw.</summary>
sealed class CopyFilesExecutor : IStageExecutor
{
    public string Kind => "load";
    public int Version => 3;

    public Task<StageOutcome> RunAsync(StageContext context, CancellationToken cancellationToken)
    {
        foreach (var file in context.Inputs["files"])
        {
            if (File.ReadLines(file).Any(l => l.Trim() == "FAIL"))
                throw new InvalidDataException($"{Path.GetFileName(file)} asks this test stage to fail");
            File.Copy(file, Path.Combine(context.OutputDirectory, Path.GetFileName(file)));
        }
        context.Progress.Log($"copied {context.Inputs["files"].Count} file(s)");
        return Task.FromResult(StageOutcome.Empty);
    }
}

/// <summary>Progress as the real tool prints it when its output is redirected: "[i/n] stage: status".</summary>
sealed class PlainLines : IRunObserver
{
    readonly Dictionary<string, int> _index = new();
    public void Message(string text) => Console.WriteLine(text);
    public void RunStarted(IReadOnlyList<PlannedStage> stages)
    {
        for (var i = 0; i < stages.Count; i++) _index[stages[i].Name] = i + 1;
        Console.WriteLine($"{stages.Count} stage(s): {stages.Count(s => s.InCache)} in the cache");
    }
    public void StageStarted(string stage) => Console.WriteLine($"[{_index[stage]}/{_index.Count}] {stage}: running");
    public void StageLog(string stage, string message) => Console.WriteLine($"  {stage}: {message}");
    public void StageProgress(string stage, string step, long done, long total, string? status) { }
    public void StageFinished(StageRecord record) =>
        Console.WriteLine($"[{_index[record.Name]}/{_index.Count}] {record.Name}: {record.Status.ToText()}{(record.Error is null ? "" : $": {record.Error}")}");
}

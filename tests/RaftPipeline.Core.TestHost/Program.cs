using RaftPipeline.Core.Engine;
using RaftPipeline.Core.Store;
using RaftPipeline.Core.TestHost;

// raft-testhost run --spec-dir D --cache C --data FILE --model DIR [--run-dir R] [--delay-ms N]
//                   [--gate-stage S --marker FILE] [--lock-timeout-ms N]
// Runs TestPipelines.Diamond in this process with echo doubles (and a gate double for --gate-stage) and prints
// what happened. Exit: 0 succeeded, 1 failed, 3 the cache lock timed out, 130 cancelled.
if (args.Length == 0 || args[0] != "run")
{
    Console.Error.WriteLine("usage: raft-testhost run --spec-dir D --cache C --data FILE --model DIR [options]");
    return 2;
}
var options = new Dictionary<string, string>(StringComparer.Ordinal);
for (var i = 1; i + 1 < args.Length; i += 2) options[args[i]] = args[i + 1];
string Opt(string name) => options.TryGetValue(name, out var v) ? v : throw new ArgumentException($"missing {name}");

var spec = TestPipelines.Diamond(Opt("--spec-dir"), Opt("--cache"), Opt("--data"), Opt("--model"));
var delay = TimeSpan.FromMilliseconds(int.Parse(options.GetValueOrDefault("--delay-ms", "0")));
var gateStage = options.GetValueOrDefault("--gate-stage");
var executors = TestPipelines.Kinds.Select(kind => spec.Stages.First(s => s.Kind == kind).Name == gateStage
    ? (IStageExecutor)new GateExecutor(kind) { MarkerFile = Opt("--marker") }
    : new EchoExecutor(kind) { Delay = delay });

using var cts = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; cts.Cancel(); };
var request = new RunRequest
{
    RunDirectory = options.GetValueOrDefault("--run-dir"),
    LockTimeout = options.TryGetValue("--lock-timeout-ms", out var t) ? TimeSpan.FromMilliseconds(int.Parse(t)) : RunRequest.DefaultLockTimeout,
};
try
{
    var result = await new PipelineRunner(new StageExecutorRegistry(executors))
        .RunAsync(spec, spec.Stages, request, new ConsoleObserver(), cts.Token);
    foreach (var stage in result.Lock.Stages) Console.WriteLine($"{stage.Name}: {stage.Status.ToText()}");
    Console.WriteLine($"run folder: {result.Folder.Path}");
    return result.Outcome switch { RunOutcome.Succeeded => 0, RunOutcome.Cancelled => 130, _ => 1 };
}
catch (CacheLockTimeoutException e)
{
    Console.WriteLine($"lock timeout: {e.Message}");
    return 3;
}

sealed class ConsoleObserver : IRunObserver
{
    public void Message(string text) => Console.WriteLine(text);
    public void RunStarted(IReadOnlyList<PlannedStage> stages) => Console.WriteLine($"starting {stages.Count} stages");
    public void StageStarted(string stage) => Console.WriteLine($"started {stage}");
    public void StageLog(string stage, string message) { }
    public void StageProgress(string stage, string step, long done, long total, string? status) { }
    public void StageFinished(StageRecord record) { }
}

using RaftPipeline.Cli.Console;
using RaftPipeline.Cli.Models;
using RaftPipeline.Core.Engine;
using RaftPipeline.Core.Graph;
using RaftPipeline.Core.Runs;
using RaftPipeline.Core.Spec;
using RaftPipeline.Core.Store;
using RaftPipeline.Stages.Report;

namespace RaftPipeline.Cli.Commands.Run;

/// <summary>
/// <c>raft run</c>: load and validate the spec (nothing runs when it is wrong), pick the stages (all, or the
/// named ones and what they need), resolve the device, then run through <see cref="PipelineRunner"/> with live
/// or plain progress, and end with a summary, the run report (<see cref="RunReport"/>), the exports
/// (<see cref="RunExports"/>) and an exit code from <see cref="RaftCli.ExitCodes"/>.
/// </summary>
public sealed class RunCommand(IReadOnlyList<IStageExecutor> executors, Func<bool> cudaAvailable)
{
    /// <param name="observe">Runs the pipeline under a progress renderer (live or plain lines).</param>
    public async Task<int> RunAsync(
        RunOptions options, TextWriter output, TextWriter error,
        Func<Func<IRunObserver, Task<RunResult>>, Task<RunResult>> observe, CancellationToken cancellationToken)
    {
        var loaded = SpecLoader.Load(options.SpecPath, options.AllOverrides);
        if (!loaded.IsValid)
        {
            foreach (var e in loaded.Errors) error.WriteLine(e);
            error.WriteLine($"{loaded.Errors.Count} error{(loaded.Errors.Count == 1 ? "" : "s")}; nothing was run.");
            return RaftCli.ExitCodes.BadInput;
        }
        var spec = loaded.Spec;
        var graph = PipelineGraph.Build(spec);
        var unknown = graph.UnknownTargets(options.Targets);
        if (unknown.Count > 0)
        {
            foreach (var u in unknown) error.WriteLine($"{options.SpecPath}: {u}");
            return RaftCli.ExitCodes.BadInput;
        }
        var ordered = options.Targets.Count == 0 ? graph.TopologicalOrder : graph.Closure(options.Targets);
        var exports = RunExports.Plan(spec, options.ExportsEnabled ? options.Exports ?? [] : [], ordered.Select(s => s.Name).ToHashSet(StringComparer.Ordinal), out var exportProblems);
        if (exportProblems.Count > 0)
        {
            foreach (var p in exportProblems) error.WriteLine(p);
            error.WriteLine("nothing was run.");
            return RaftCli.ExitCodes.BadInput;
        }

        var device = DeviceSelection.Resolve(spec.Device, cudaAvailable);
        if (device.Error is not null)
        {
            error.WriteLine($"{options.SpecPath}: {device.Error}");
            return RaftCli.ExitCodes.BadInput;
        }
        if (device.Note is not null) output.WriteLine(device.Note);

        var request = new RunRequest
        {
            Targets = options.Targets,
            RunDirectory = options.RunDirectory,
            Verify = options.Verify,
            Resume = !options.NoResume,
            Device = device.Device,
            LockTimeout = options.EffectiveLockTimeout,
            ResolvedSpecYaml = ResolvedSpecWriter.Write(spec, options.AllOverrides),
            Overrides = options.AllOverrides,
        };
        RunResult result;
        try
        {
            var runner = new PipelineRunner(new StageExecutorRegistry(executors));
            result = await observe(observer => runner.RunAsync(spec, ordered,
                request with { ResolveHubModel = ModelArguments.ForPipeline(new RunObserverHubProgress(observer), download: true) },
                observer, cancellationToken));
        }
        catch (RunPreparationException e)
        {
            foreach (var problem in e.Problems) error.WriteLine(problem);
            error.WriteLine("nothing was run.");
            return RaftCli.ExitCodes.BadInput;
        }
        catch (StorageException e)
        {
            error.WriteLine(e.Message);
            return RaftCli.ExitCodes.StorageError;
        }
        catch (CacheLockTimeoutException e)
        {
            error.WriteLine($"not run: {e.Message}");
            return RaftCli.ExitCodes.Failed;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            error.WriteLine("cancelled before any stage started.");
            return RaftCli.ExitCodes.Cancelled;
        }
        var exit = Summarize(result, output, error);
        WriteReport(result.Folder.Path, output, error);
        if (options.ExportsEnabled && result.Outcome != RunOutcome.Cancelled && exports.Count > 0
            && !exports.Apply(spec, result, options.Force, output, error) && exit == RaftCli.ExitCodes.Ok)
            exit = RaftCli.ExitCodes.Failed;
        return exit;
    }

    /// <summary>
    /// The run report, after every run that got a run folder (succeeded, failed or cancelled): a failed run's report
    /// is the one most worth reading. A report that cannot be written is said, and leaves the exit code alone.
    /// </summary>
    static void WriteReport(string runFolder, TextWriter output, TextWriter error)
    {
        try
        {
            output.WriteLine($"report: {RunReport.Write(runFolder).HtmlPath}");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            error.WriteLine($"the run report was not written: {e.Message}");
        }
    }

    static int Summarize(RunResult result, TextWriter output, TextWriter error)
    {
        var stages = result.Lock.Stages;
        int Count(StageStatus s) => stages.Count(x => x.Status == s);
        var seconds = ((result.Lock.FinishedUtc ?? DateTime.UtcNow) - result.Lock.StartedUtc).TotalSeconds;
        var summary = $"{Count(StageStatus.Ran)} ran, {Count(StageStatus.Reused)} reused";
        if (Count(StageStatus.Failed) > 0) summary += $", {Count(StageStatus.Failed)} failed";
        if (Count(StageStatus.Skipped) > 0) summary += $", {Count(StageStatus.Skipped)} skipped";
        if (Count(StageStatus.Cancelled) > 0) summary += $", {Count(StageStatus.Cancelled)} cancelled";
        output.WriteLine($"{result.Lock.Status}: {summary} in {Console.Formats.Duration(seconds)}");
        output.WriteLine($"run folder: {result.Folder.Path}");
        foreach (var failed in stages.Where(s => s.Status == StageStatus.Failed))
            error.WriteLine($"stage '{failed.Name}' ({failed.Kind}) failed: {failed.Error}");
        return result.Outcome switch
        {
            RunOutcome.Succeeded => RaftCli.ExitCodes.Ok,
            RunOutcome.Cancelled => RaftCli.ExitCodes.Cancelled,
            _ => RaftCli.ExitCodes.Failed,
        };
    }
}

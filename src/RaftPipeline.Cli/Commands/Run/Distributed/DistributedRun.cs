using RaftPipeline.Core.Graph;
using RaftPipeline.Core.Spec;
using RaftPipeline.Training.Distributed;

namespace RaftPipeline.Cli.Commands.Run.Distributed;

/// <summary>
/// One worker of a data-parallel run (started by <c>raft run --gpus N</c>, torchrun, srun or a PyTorchJob): binds its
/// GPU, joins the job's rendezvous, and runs the pipeline with <c>world_size</c> set on every train stage.
/// <para>
/// Rank 0 runs the pipeline as a single process would: it alone owns the cache and the run folder, publishes
/// artifacts and writes logs, metrics and the report. Every other rank runs only the train stages and what they
/// need, in a private scratch cache and run folder (deleted at exit), so they never write the shared cache and need
/// no shared file system (multi-node works alike); upstream stages are deterministic, so they rebuild the same
/// inputs (at the cost of repeating them). A train stage rank 0 reuses from its cache is never run by the others:
/// rank 0 announces each train stage it runs, and leaving the job releases the rest.
/// </para>
/// <para>
/// Failures: a rank whose run fails tells the others (with its message) and exits non-zero; they stop with that
/// message. If a rank is stuck where the message cannot reach it (inside NCCL), it exits after a grace period.
/// </para>
/// </summary>
public sealed class DistributedRun(RunCommand command, DistributedWorld world)
{
    /// <summary>Test hook: the rank named here fails on purpose right after joining (proves failure propagation).</summary>
    public const string FailRankVariable = "RAFT_TEST_FAIL_RANK";

    public static TimeSpan StuckGrace { get; set; } = TimeSpan.FromSeconds(60);

    public async Task<int> RunAsync(RunOptions options, TextWriter output, TextWriter error,
        Func<Func<Core.Engine.IRunObserver, Task<Core.Engine.RunResult>>, Task<Core.Engine.RunResult>> observe, CancellationToken cancellationToken)
    {
        string? narrowed = CudaDeviceBinding.Apply(world.LocalRank);
        output.WriteLine($"{world}{(narrowed is null ? "" : $", CUDA_VISIBLE_DEVICES={narrowed}")}");

        // The spec as given, to find its train stages (a bad spec is reported by the run itself, below).
        var loaded = SpecLoader.Load(options.SpecPath, options.AllOverrides);
        var trainStages = loaded.IsValid ? TrainStages(loaded.Spec, options.Targets) : [];
        var overrides = options.Overrides.ToList();
        if (world.WorldSize > 1)
            overrides.AddRange(trainStages.Select(s => $"{s}.world_size={world.WorldSize}"));

        string? scratch = null;
        if (!world.IsRankZero)
        {
            if (loaded.IsValid && trainStages.Count == 0)
            {
                output.WriteLine($"rank {world.Rank}: no train stage to share in this run; only rank 0 works");
                return RaftCli.ExitCodes.Ok;
            }
            scratch = Directory.CreateTempSubdirectory($"raft-rank{world.Rank}-").FullName;
            overrides.Add($"cache={Path.Combine(scratch, "cache")}");
        }
        var workerOptions = options with
        {
            Overrides = overrides,
            Targets = world.IsRankZero || !loaded.IsValid ? options.Targets : trainStages,
            RunDirectory = scratch is null ? options.RunDirectory : Path.Combine(scratch, "run"),
            Gpus = null,
            ExportsEnabled = world.IsRankZero,
        };

        DistributedJob job;
        try
        {
            job = new DistributedJob(Rendezvous.Join(world));
        }
        catch (DistributedSetupException e)
        {
            error.WriteLine($"rank {world.Rank}: {e.Message}");
            if (scratch is not null) Directory.Delete(scratch, recursive: true);
            return RaftCli.ExitCodes.Failed;
        }
        job.Rendezvous.PeerFailed += failure => StopIfStuck(failure, error);
        DistributedJob.Current = job;
        var errors = new CapturingWriter(error);
        try
        {
            if (Environment.GetEnvironmentVariable(FailRankVariable) == world.Rank.ToString())
            {
                string message = $"injected failure ({FailRankVariable}={world.Rank})";
                job.Rendezvous.ReportFailure(message);
                error.WriteLine($"rank {world.Rank}: {message}");
                return RaftCli.ExitCodes.Failed;
            }
            int exit = await command.RunAsync(workerOptions, output, errors, observe, cancellationToken);
            if (job.Released)
            {
                output.WriteLine($"rank {world.Rank}: rank 0 had no more training for this rank (it reused its artifacts); done");
                return RaftCli.ExitCodes.Ok;
            }
            if (job.Rendezvous.Failure is { } remote)
            {
                error.WriteLine($"rank {world.Rank} stopped: {remote.Message}");
                return exit == RaftCli.ExitCodes.Ok ? RaftCli.ExitCodes.Failed : exit;
            }
            if (exit != RaftCli.ExitCodes.Ok)
                job.Rendezvous.ReportFailure(errors.Text.Length > 0 ? errors.Text.Trim() : $"its run exited with code {exit}");
            return exit;
        }
        finally
        {
            job.Dispose();
            if (scratch is not null)
                try { Directory.Delete(scratch, recursive: true); } catch (IOException) { } // best effort: it is a temp folder
        }
    }

    /// <summary>The train stages this run executes (all, or those the targets need), in order.</summary>
    public static List<string> TrainStages(PipelineSpec spec, IReadOnlyList<string> targets)
    {
        var graph = PipelineGraph.Build(spec);
        var ordered = targets.Count == 0 ? graph.TopologicalOrder : graph.Closure(targets);
        return ordered.Where(s => s.Kind == "train").Select(s => s.Name).ToList();
    }

    void StopIfStuck(RemoteRankFailedException failure, TextWriter error)
    {
        // A rank blocked inside NCCL may not return even after the communicator is aborted: exit for it.
        new Thread(() =>
        {
            Thread.Sleep(StuckGrace);
            lock (error) error.WriteLine($"rank {world.Rank}: stopping: {failure.Message}");
            error.Flush();
            Environment.Exit(RaftCli.ExitCodes.Failed);
        }) { IsBackground = true, Name = "raft-stop-if-stuck" }.Start();
    }

    /// <summary>Passes text through and keeps the last few lines (a failing rank's message for the others).</summary>
    sealed class CapturingWriter(TextWriter inner) : TextWriter
    {
        readonly System.Text.StringBuilder _text = new();
        public override System.Text.Encoding Encoding => inner.Encoding;
        public string Text { get { lock (_text) return _text.Length > 2000 ? _text.ToString(_text.Length - 2000, 2000) : _text.ToString(); } }
        public override void Write(char value) { lock (_text) _text.Append(value); inner.Write(value); }
        public override void Write(string? value) { lock (_text) _text.Append(value); inner.Write(value); }
        public override void WriteLine(string? value) { lock (_text) _text.AppendLine(value); inner.WriteLine(value); }
        public override void Flush() => inner.Flush();
    }
}

using System.CommandLine;
using RaftPipeline.Cli.Commands.Run.Distributed;
using RaftPipeline.Cli.Console;
using RaftPipeline.Training.Distributed;
using RaftPipeline.Stages;
using Spectre.Console;

namespace RaftPipeline.Cli.Commands.Run;

/// <summary>
/// <c>dotnet raft run [SPEC] [STAGE...] [--set KEY=VALUE]... [--run-dir DIR] [--verify] [--device cpu|cuda|auto]
/// [--lock-timeout SECONDS] [--gpus N] [--no-resume] [--export STAGE=DIR]... [--force]</c>: the wiring; the behaviour is <see cref="RunCommand"/>, under
/// <see cref="WorkerLauncher"/> (--gpus) or as one worker of a launched job (<see cref="DistributedRun"/>: torchrun,
/// srun and PyTorchJob variables).
/// </summary>
public sealed class RunVerb : ICliVerb
{
    public Command Create()
    {
        var spec = new Argument<string?>("spec")
        {
            Description = $"The pipeline spec (YAML); default ./{DefaultSpec.FileName}.",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var stages = new Argument<string[]>("stage")
        {
            Description = "Run only these stages and what they need (as dvc repro STAGE); none: every stage.",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var set = new Option<string[]>("--set")
        {
            Description = "Override a value: STAGE.PARAM=VALUE (e.g. train.learning_rate=2e-4), seed=, device=, cache=, vars.NAME=. Repeatable.",
        };
        var runDir = new Option<string?>("--run-dir") { Description = "This run's folder (default: runs/<pipeline>/<UTC time>/ beside the spec)." };
        var verify = new Option<bool>("--verify")
        {
            Description = "Rehash every input file (ignore the size/mtime memo) and check reused artifacts against their manifests.",
        };
        var device = new Option<string?>("--device") { Description = "cpu, cuda or auto (overrides the spec's device)." };
        device.AcceptOnlyFromAmong("cpu", "cuda", "auto");
        var lockTimeout = new Option<int?>("--lock-timeout")
        {
            Description = "Seconds to wait for another run holding the cache (default 1800).",
        };
        var gpus = new Option<int?>("--gpus")
        {
            Description = "Train data-parallel on N GPUs of this machine: starts N worker processes (effective batch = batch_size × N × accumulation). With --device cpu, N CPU processes.",
        };
        var noResume = new Option<bool>("--no-resume")
        {
            Description = "Start every stage over: delete the checkpoints an interrupted train stage left in the cache instead of resuming from the newest.",
        };
        var export = new Option<string[]>("--export")
        {
            Description = "After the run, copy STAGE's artifact to DIR, writable (e.g. --export merged=out/merged); a spec's top-level export: map does the same. Repeatable.",
        };
        var force = new Option<bool>("--force") { Description = "Let --export replace a non-empty folder that this cache did not export to before." };
        var command = new Command("run", "Run a pipeline: reuse every stage already built, run the rest in dependency order.")
        {
            spec, stages, set, runDir, verify, device, lockTimeout, gpus, noResume, export, force,
        };
        command.SetAction(parse =>
        {
            var (specPath, targets) = DefaultSpec.Resolve(parse.GetValue(spec), parse.GetValue(stages) ?? []);
            var options = new RunOptions(
                specPath, targets, parse.GetValue(set) ?? [],
                parse.GetValue(runDir), parse.GetValue(verify), parse.GetValue(device),
                parse.GetValue(lockTimeout) is { } seconds ? TimeSpan.FromSeconds(seconds) : null, parse.GetValue(gpus),
                parse.GetValue(noResume), parse.GetValue(export) ?? [], parse.GetValue(force));
            var output = parse.InvocationConfiguration.Output;
            var error = parse.InvocationConfiguration.Error;
            if (options.Gpus is not null) return new WorkerLauncher(output, error).Run(options);
            DistributedWorld world;
            try { world = DistributedWorld.FromEnvironment(); }
            catch (DistributedSetupException e)
            {
                error.WriteLine(e.Message);
                return RaftCli.ExitCodes.BadInput;
            }
            using var cancellation = new ConsoleCancellation(line => error.WriteLine(line));
            var command = new RunCommand(StageExecutors.All(), DeviceSelection.CudaAvailable);
            int exit = world.IsLaunched
                ? new DistributedRun(command, world).RunAsync(options, output, error, Observe(output), cancellation.Token).GetAwaiter().GetResult()
                : command.RunAsync(options, output, error, Observe(output), cancellation.Token).GetAwaiter().GetResult();
            return cancellation.ExitCode(exit);
        });
        return command;
    }

    /// <summary>Live rendering on an interactive terminal writing to the real console; plain lines otherwise.</summary>
    static Func<Func<Core.Engine.IRunObserver, Task<Core.Engine.RunResult>>, Task<Core.Engine.RunResult>> Observe(TextWriter output)
    {
        if (ReferenceEquals(output, System.Console.Out) && OutputMode.IsLive)
            return run => new LiveRunRenderer(AnsiConsole.Console).RunAsync(run);
        var plain = new PlainRunRenderer(output);
        return run => run(plain);
    }
}

using System.CommandLine;
using RaftPipeline.Stages;

namespace RaftPipeline.Cli.Commands.Plan;

/// <summary><c>dotnet raft plan SPEC [STAGE...] [--set KEY=VALUE]... [--verify] [--gpus N]</c>: the wiring; the behaviour is <see cref="PlanCommand"/>.</summary>
public sealed class PlanVerb : ICliVerb
{
    public Command Create()
    {
        var spec = new Argument<string>("spec") { Description = "The pipeline spec (YAML)." };
        var stages = new Argument<string[]>("stage")
        {
            Description = "Plan only these stages and what they need; none: every stage.",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var set = new Option<string[]>("--set") { Description = "Override a value, as for run. Repeatable." };
        var verify = new Option<bool>("--verify") { Description = "Rehash every input file instead of trusting the size/mtime memo." };
        var gpus = new Option<int?>("--gpus") { Description = "Plan as `raft run --gpus N` would run: train stages with world_size N." };
        var command = new Command("plan", "Show each stage's key and whether the next run reuses it or why it must run; runs nothing.")
        {
            spec, stages, set, verify, gpus,
        };
        command.SetAction(parse => new PlanCommand(StageExecutors.All()).Run(
            parse.GetValue(spec)!, parse.GetValue(stages) ?? [], parse.GetValue(set) ?? [], parse.GetValue(verify),
            parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error, parse.GetValue(gpus)));
        return command;
    }
}

using System.CommandLine;

namespace RaftPipeline.Cli.Commands.Validate;

/// <summary><c>dotnet raft validate SPEC [--set KEY=VALUE]...</c>: the wiring; the behaviour is <see cref="ValidateCommand"/>.</summary>
public sealed class ValidateVerb : ICliVerb
{
    public Command Create()
    {
        var spec = new Argument<string>("spec") { Description = "The pipeline spec (YAML)." };
        var set = new Option<string[]>("--set")
        {
            Description = "Override a value: STAGE.PARAM=VALUE (e.g. train.learning_rate=2e-4), seed=, device=, cache=, vars.NAME=. Repeatable.",
            Arity = ArgumentArity.OneOrMore,
        };
        var command = new Command("validate", "Check a spec completely (keys, types, ranges, inputs, paths, cycles) without running anything.")
        {
            spec,
            set,
        };
        command.SetAction(parse => ValidateCommand.Run(
            parse.GetValue(spec)!,
            parse.GetValue(set) ?? [],
            parse.InvocationConfiguration.Output,
            parse.InvocationConfiguration.Error));
        return command;
    }
}

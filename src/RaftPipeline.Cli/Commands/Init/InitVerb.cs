using System.CommandLine;

namespace RaftPipeline.Cli.Commands.Init;

/// <summary><c>dotnet raft init [DIR] [--force]</c>: the wiring; the behaviour is <see cref="InitCommand"/>.</summary>
public sealed class InitVerb : ICliVerb
{
    public Command Create()
    {
        var directory = new Argument<string>("dir")
        {
            Description = "Folder to scaffold into (created when missing). Default: the current folder.",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var force = new Option<bool>("--force") { Description = "Overwrite files that already exist." };
        var command = new Command("init", "Start a new pipeline: pipeline.yaml (with its JSON Schema), example data and a .gitignore.")
        {
            directory,
            force,
        };
        command.SetAction(parse => InitCommand.Run(
            parse.GetValue(directory) ?? ".",
            parse.GetValue(force),
            parse.InvocationConfiguration.Output,
            parse.InvocationConfiguration.Error));
        return command;
    }
}

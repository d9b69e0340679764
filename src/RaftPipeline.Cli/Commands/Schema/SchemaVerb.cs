using System.CommandLine;

namespace RaftPipeline.Cli.Commands.Schema;

/// <summary><c>dotnet raft schema [--out FILE]</c>: the wiring; the behaviour is <see cref="SchemaCommand"/>.</summary>
public sealed class SchemaVerb : ICliVerb
{
    public Command Create()
    {
        var output = new Option<string?>("--out") { Description = "Write the schema to this file instead of standard output." };
        var markdown = new Option<bool>("--markdown") { Description = "Print the spec reference (stage kinds, inputs, parameters) as Markdown instead." };
        var command = new Command("schema", "Print the JSON Schema (draft 2020-12) of pipeline specs, for editors (# yaml-language-server: $schema=...).")
        {
            output,
            markdown,
        };
        command.SetAction(parse => SchemaCommand.Run(
            parse.GetValue(output), parse.GetValue(markdown), parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error));
        return command;
    }
}

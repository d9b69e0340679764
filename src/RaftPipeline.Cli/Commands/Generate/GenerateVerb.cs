using System.CommandLine;
using RaftPipeline.Cli.Console;

namespace RaftPipeline.Cli.Commands.Generate;

/// <summary>
/// `dotnet raft generate --model DIR (--prompt TEXT | --messages FILE) [--adapter DIR] [--json] ...`: the wiring;
/// the behaviour is <see cref="GenerateCommand"/>.
/// </summary>
public sealed class GenerateVerb : ICliVerb
{
    public Command Create()
    {
        var shared = new GenerationArguments();
        var prompt = new Option<string?>("--prompt") { Description = "Prompt text, taken verbatim (special tokens such as <|im_start|> are recognised)." };
        var messages = new Option<string?>("--messages")
        {
            Description = "JSON file with a list of {role, content} messages; the model's chat template is applied with the assistant turn opened.",
        };
        var json = new Option<bool>("--json") { Description = "Print one JSON object (prompt, prompt_ids, generated_ids, text, finish_reason) instead of streaming text." };

        var command = new Command("generate", "Continue a prompt or a conversation with a model folder, streaming the text.");
        // The shared options first, so --model leads the help.
        foreach (var option in shared.All) command.Options.Add(option);
        foreach (var option in new Option[] { prompt, messages, json }) command.Options.Add(option);
        command.SetAction(parse =>
        {
            var error = parse.InvocationConfiguration.Error;
            using var cancellation = new ConsoleCancellation(line => error.WriteLine(line));
            return cancellation.ExitCode(new GenerateCommand(parse.InvocationConfiguration.Output, error).Run(
                new GenerateRequest(
                    parse.GetValue(shared.Model)!,
                    parse.GetValue(prompt),
                    parse.GetValue(messages),
                    parse.GetValue(shared.Adapter),
                    shared.Sampling(parse),
                    shared.DeviceKind(parse),
                    parse.GetValue(json)),
                cancellation.Token));
        });
        return command;
    }
}

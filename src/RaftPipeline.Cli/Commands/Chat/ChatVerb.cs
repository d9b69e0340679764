using System.CommandLine;
using RaftPipeline.Cli.Commands.Generate;
using RaftPipeline.Cli.Console;

namespace RaftPipeline.Cli.Commands.Chat;

/// <summary>`dotnet raft chat --model DIR [--adapter DIR] [--system TEXT] ...`: the wiring; the behaviour is
/// <see cref="ChatCommand"/>, reading lines from stdin.</summary>
public sealed class ChatVerb : ICliVerb
{
    public Command Create()
    {
        var shared = new GenerationArguments();
        var system = new Option<string?>("--system") { Description = "System message that opens the conversation (kept across /reset)." };
        var command = new Command("chat", "Chat with a model on stdin using its chat template; /reset forgets the history, /exit or EOF ends.");
        // The shared options first, so --model leads the help.
        foreach (var option in shared.All) command.Options.Add(option);
        foreach (var option in new Option[] { system }) command.Options.Add(option);
        command.SetAction(parse =>
        {
            var error = parse.InvocationConfiguration.Error;
            using var cancellation = new ConsoleCancellation(line => error.WriteLine(line));
            // Console.In is read at invocation, so a caller that redirected it (a pipe, a file, Console.SetIn) is honoured.
            var chat = new ChatCommand(System.Console.In, parse.InvocationConfiguration.Output, error, interactive: !System.Console.IsInputRedirected);
            return cancellation.ExitCode(chat.Run(
                new ChatRequest(parse.GetValue(shared.Model)!, parse.GetValue(shared.Adapter), parse.GetValue(system),
                    shared.Sampling(parse), shared.DeviceKind(parse)),
                cancellation.Token));
        });
        return command;
    }
}

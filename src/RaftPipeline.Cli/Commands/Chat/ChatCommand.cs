using RaftPipeline.Cli.Models;
using RaftPipeline.Cli.Commands.Generate;
using RaftPipeline.Cli.Commands.Run;
using RaftPipeline.Modeling.Chat;
using RaftPipeline.Stages.Models;
using RaftPipeline.Text.Templates;
using RaftPipeline.Text.Templates.Jinja;

namespace RaftPipeline.Cli.Commands.Chat;

/// <summary>
/// The behaviour of `raft chat`: read a message from <paramref name="input"/> (a line, or several: <see cref="ChatInput"/>), render the whole conversation with the
/// model's chat template, stream the answer to <paramref name="output"/> and keep it in the history. "/reset"
/// forgets the history (the --system message stays), "/exit" or the end of input ends the session. With
/// <paramref name="interactive"/> false (stdin redirected) no prompt marker or banner is written, so the output is
/// the answers alone, one per line.
/// </summary>
public sealed class ChatCommand(TextReader input, TextWriter output, TextWriter error, bool interactive)
{
    public const string ResetCommand = "/reset";
    public const string ExitCommand = "/exit";

    /// <summary>Runs the editor for <see cref="ChatInput.EditCommand"/> on a file (default: $VISUAL or $EDITOR).</summary>
    public Action<string>? Editor { get; init; }

    /// <summary>Called after every answered turn (tests and tools watch the prompts through it).</summary>
    public Action<ChatTurn>? TurnCompleted { get; init; }

    public int Run(ChatRequest request, CancellationToken cancellation = default)
    {
        var models = ModelArguments.Resolve(error, ("--model", request.Model), ("--adapter", request.Adapter));
        if (models.Problem is not null) return BadInput(models.Problem);
        request = request with { Model = models.Paths[0]!, Adapter = models.Paths[1] };
        if (ModelProblems.Check(request.Model, request.Adapter) is { } folderProblem)
            return BadInput(folderProblem);
        if (request.Sampling.Problem() is { } samplingProblem)
            return BadInput(samplingProblem);
        var device = DeviceSelection.Resolve(request.Device, DeviceSelection.CudaAvailable);
        if (device.Error is not null) return BadInput($"--device: {device.Error}");
        if (device.Note is not null) error.WriteLine(device.Note);

        ChatEngine loaded;
        try
        {
            loaded = ChatEngine.Load(request.Model, request.Adapter, device.Device.ToTorchDevice());
            _ = loaded.ChatTemplate; // a folder without a template fails now, not after the first question
        }
        catch (Exception e) when (ModelProblems.IsBadInput(e))
        {
            return BadInput(e.Message);
        }
        using (loaded)
        {
            var options = loaded.Options(request.Sampling.Settings());
            var history = NewHistory(request.System);
            if (interactive)
                error.WriteLine($"chat with {request.Model}: {ChatInput.MultiLineFence} on a line starts and ends a multi-line message, {ChatInput.EditCommand} opens $EDITOR, " +
                                $"{ResetCommand} forgets the conversation, {ExitCommand} or Ctrl-D ends it");
            while (true)
            {
                if (interactive)
                {
                    output.Write("> ");
                    output.Flush();
                }
                var line = ChatInput.ReadMessage(input, output, error, interactive, Editor);
                if (line is null) break; // end of input
                var text = line.Trim();
                if (text.Length == 0) continue;
                if (text == ExitCommand) break;
                if (text == ResetCommand)
                {
                    history = NewHistory(request.System);
                    if (interactive) error.WriteLine("(conversation forgotten)");
                    continue;
                }

                history.Add(new ChatMessage("user", line));
                string promptText;
                int[] promptIds;
                try
                {
                    (promptText, promptIds) = loaded.RenderChat(ChatConversation.FromMessages(history));
                }
                catch (Exception e) when (e is ChatInputException or TemplateException)
                {
                    return BadInput(e.Message);
                }
                catch (ArgumentException e) // an unpaired surrogate in the typed line
                {
                    error.WriteLine($"raft chat: {e.Message}; the line was not used");
                    history.RemoveAt(history.Count - 1);
                    continue;
                }

                ChatAnswer answer;
                try
                {
                    answer = loaded.Generate(promptIds, options, text =>
                    {
                        output.Write(text);
                        output.Flush();
                    }, cancellation);
                }
                catch (OperationCanceledException)
                {
                    output.WriteLine();
                    error.WriteLine("raft chat: stopped");
                    return RaftCli.ExitCodes.Cancelled;
                }
                output.WriteLine();
                output.Flush();
                history.Add(new ChatMessage("assistant", answer.Text));
                TurnCompleted?.Invoke(new ChatTurn(promptText, promptIds, answer.Ids, answer.Text));
            }
            return RaftCli.ExitCodes.Ok;
        }
    }

    static List<ChatMessage> NewHistory(string? system) => system is null ? [] : [new ChatMessage("system", system)];

    int BadInput(string message)
    {
        error.WriteLine($"raft chat: {message}");
        return RaftCli.ExitCodes.BadInput;
    }
}

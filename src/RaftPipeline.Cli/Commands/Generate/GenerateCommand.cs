using RaftPipeline.Cli.Models;
using System.Text.Encodings.Web;
using System.Text.Json;
using RaftPipeline.Cli.Commands.Run;
using RaftPipeline.Modeling.Chat;
using RaftPipeline.Modeling.Generation;
using RaftPipeline.Stages.Models;
using RaftPipeline.Text.Templates;
using RaftPipeline.Text.Templates.Jinja;

namespace RaftPipeline.Cli.Commands.Generate;

/// <summary>
/// The behaviour of `raft generate`: continue one prompt with a model folder and stream the text to stdout as
/// it is produced, or with --json print one object {prompt, prompt_ids, generated_ids, text, finish_reason}.
/// Bad input (a missing folder or file, malformed JSON, conflicting flags) is one line on stderr and exit code 2.
/// </summary>
public sealed class GenerateCommand(TextWriter output, TextWriter error)
{
    public int Run(GenerateRequest request, CancellationToken cancellation = default)
    {
        if (request.Prompt is not null && request.Messages is not null)
            return BadInput("give either --prompt or --messages, not both");
        if (request.Prompt is null && request.Messages is null)
            return BadInput("give --prompt TEXT or --messages FILE");
        var models = ModelArguments.Resolve(error, ("--model", request.Model), ("--adapter", request.Adapter));
        if (models.Problem is not null) return BadInput(models.Problem);
        request = request with { Model = models.Paths[0]!, Adapter = models.Paths[1] };
        if (ModelProblems.Check(request.Model, request.Adapter) is { } folderProblem)
            return BadInput(folderProblem);
        if (request.Sampling.Problem() is { } samplingProblem)
            return BadInput(samplingProblem);

        ChatConversation? conversation = null;
        if (request.Messages is not null)
        {
            try
            {
                conversation = ChatConversation.Load(request.Messages);
            }
            catch (ChatInputException e)
            {
                return BadInput($"--messages: {e.Message}");
            }
        }

        var device = DeviceSelection.Resolve(request.Device, DeviceSelection.CudaAvailable);
        if (device.Error is not null) return BadInput($"--device: {device.Error}");
        if (device.Note is not null) error.WriteLine(device.Note);

        ChatEngine loaded;
        string promptText;
        int[] promptIds;
        try
        {
            loaded = ChatEngine.Load(request.Model, request.Adapter, device.Device.ToTorchDevice());
        }
        catch (Exception e) when (ModelProblems.IsBadInput(e))
        {
            return BadInput(e.Message);
        }
        using (loaded)
        {
            try
            {
                // A verbatim prompt is encoded as tokenizer(prompt) is (special tokens in it recognised, BOS added where
                // the tokenizer adds one); a rendered template as apply_chat_template(tokenize=True) encodes it, with
                // nothing added, since the template already wrote every special token.
                (promptText, promptIds) = conversation is null
                    ? (request.Prompt!, loaded.EncodePrompt(request.Prompt!))
                    : loaded.RenderChat(conversation);
            }
            catch (Exception e) when (e is ChatInputException or TemplateException)
            {
                return BadInput($"--messages: {e.Message}");
            }
            catch (ArgumentException e) // an unpaired surrogate: the text is not Unicode
            {
                return BadInput($"--prompt: {e.Message}");
            }
            if (promptIds.Length == 0) return BadInput("--prompt: the prompt encodes to no tokens; give some text");

            var options = loaded.Options(request.Sampling.Settings());
            Action<string>? onText = request.Json ? null : text =>
            {
                output.Write(text);
                output.Flush();
            };
            ChatAnswer result;
            try
            {
                result = loaded.Generate(promptIds, options, onText, cancellation);
            }
            catch (OperationCanceledException)
            {
                if (!request.Json) output.WriteLine();
                error.WriteLine("raft generate: stopped");
                return RaftCli.ExitCodes.Cancelled;
            }

            if (request.Json) output.WriteLine(ToJson(promptText, promptIds, result));
            else output.WriteLine();
            output.Flush();
            return RaftCli.ExitCodes.Ok;
        }
    }

    static string ToJson(string promptText, int[] promptIds, ChatAnswer result)
    {
        using var buffer = new MemoryStream();
        // Korean and other non-ASCII text stays readable rather than \uXXXX-escaped.
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            json.WriteString("prompt", promptText);
            json.WriteStartArray("prompt_ids");
            foreach (var id in promptIds) json.WriteNumberValue(id);
            json.WriteEndArray();
            json.WriteStartArray("generated_ids");
            foreach (var id in result.Ids) json.WriteNumberValue(id);
            json.WriteEndArray();
            json.WriteString("text", result.Text);
            json.WriteString("finish_reason", result.Finish switch
            {
                FinishReason.EndOfSequence => "eos",
                FinishReason.StopString => "stop_string",
                _ => "length",
            });
            json.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }

    int BadInput(string message)
    {
        error.WriteLine($"raft generate: {message}");
        return RaftCli.ExitCodes.BadInput;
    }
}

using System.Text;
using System.Text.Json;
using RaftPipeline.Text.Templates;

namespace RaftPipeline.Serving.Protocol;

/// <summary>A checked /v1/chat/completions body: the model name, the conversation, streaming and the decoding fields.</summary>
public sealed record ChatCompletionRequest(string Model, IReadOnlyList<ChatMessage> Messages, bool Stream, bool IncludeUsage, SamplingFields Sampling)
{
    static readonly HashSet<string> Roles = ["system", "developer", "user", "assistant"];

    public static ChatCompletionRequest Read(JsonElement body)
    {
        var fields = new JsonFields(body);
        var model = fields.String("model", required: true)!;
        if (fields.Get("messages") is not { } messages)
            throw OpenAiException.BadRequest("'messages' is required", "messages", "missing_required_parameter");
        if (messages.ValueKind != JsonValueKind.Array || messages.GetArrayLength() == 0)
            throw OpenAiException.BadRequest("'messages' must be a non-empty list of {role, content} objects", "messages", "invalid_value");
        var read = messages.EnumerateArray().Select((m, i) => Message(m, $"messages[{i}]")).ToList();
        if (fields.Get("tools") is { ValueKind: JsonValueKind.Array } tools && tools.GetArrayLength() > 0)
            throw OpenAiException.BadRequest("'tools' is not supported by this server", "tools", "unsupported_parameter");
        if (fields.Get("response_format") is { } format && (format.ValueKind != JsonValueKind.Object ||
            !format.TryGetProperty("type", out var type) || type.GetString() != "text"))
            throw OpenAiException.BadRequest("'response_format' other than {\"type\": \"text\"} is not supported by this server", "response_format", "unsupported_parameter");
        bool stream = fields.Bool("stream") ?? false;
        bool includeUsage = fields.Get("stream_options") is { ValueKind: JsonValueKind.Object } options
            && new JsonFields(options).Bool("include_usage") == true;
        return new ChatCompletionRequest(model, read, stream, includeUsage, SamplingFields.Read(fields));
    }

    static ChatMessage Message(JsonElement message, string path)
    {
        if (message.ValueKind != JsonValueKind.Object)
            throw OpenAiException.BadRequest($"'{path}' must be an object with 'role' and 'content'", path, "invalid_type");
        var fields = new JsonFields(message);
        var role = fields.String("role") ?? throw OpenAiException.BadRequest($"'{path}.role' is required", $"{path}.role", "missing_required_parameter");
        if (!Roles.Contains(role))
            throw OpenAiException.BadRequest($"'{path}.role' is \"{role}\", expected one of system, developer, user, assistant", $"{path}.role", "invalid_value");
        // The chat templates know system, not OpenAI's newer "developer" name for it.
        if (role == "developer") role = "system";
        return new ChatMessage(role, Content(fields.Get("content"), $"{path}.content", role));
    }

    /// <summary>A string, or a list of text parts joined (the newer OpenAI form); other part types are refused.</summary>
    static string Content(JsonElement? content, string path, string role)
    {
        switch (content)
        {
            case null when role == "assistant":
                return "";
            case null:
                throw OpenAiException.BadRequest($"'{path}' is required", path, "missing_required_parameter");
            case { ValueKind: JsonValueKind.String } s:
                return s.GetString()!;
            case { ValueKind: JsonValueKind.Array } parts:
                var text = new StringBuilder();
                int i = 0;
                foreach (var part in parts.EnumerateArray())
                {
                    var partFields = new JsonFields(part);
                    var type = partFields.String("type", required: true);
                    if (type != "text")
                        throw OpenAiException.BadRequest($"'{path}[{i}].type' is \"{type}\"; this server takes text parts only", $"{path}[{i}].type", "unsupported_parameter");
                    text.Append(partFields.String("text", required: true));
                    i++;
                }
                return text.ToString();
            default:
                throw OpenAiException.BadRequest($"'{path}' must be a string or a list of text parts", path, "invalid_type");
        }
    }
}

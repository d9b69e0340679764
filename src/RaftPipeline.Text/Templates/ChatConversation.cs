using System.Text.Json;
using RaftPipeline.Text.Templates.Jinja.Runtime;

namespace RaftPipeline.Text.Templates;

/// <summary>
/// What a chat template renders: the messages (each a role/content object; tool_calls, reasoning_content and any
/// other field pass through to the template), and optionally the tools and documents transformers passes beside them.
/// </summary>
public sealed class ChatConversation
{
    internal ChatConversation(List<object?> messages, object? tools, object? documents, string sourceName)
    {
        SourceName = sourceName;
        Messages = messages;
        Tools = tools;
        Documents = documents;
    }

    /// <summary>Template values (runtime form) of the messages.</summary>
    internal List<object?> Messages { get; }
    internal object? Tools { get; }
    internal object? Documents { get; }

    public int Count => Messages.Count;

    /// <summary>The file the messages came from ("(messages)" when built in code), for error messages.</summary>
    public string SourceName { get; }

    const string Expected = "a list of {role, content} objects, or an object {\"messages\": [...], \"tools\": [...], \"documents\": [...]}";

    public static ChatConversation FromMessages(IEnumerable<ChatMessage> messages)
    {
        var list = new List<object?>();
        foreach (var m in messages)
        {
            var d = new PyDict { ["role"] = m.Role, ["content"] = m.Content };
            if (m.ReasoningContent is not null) d["reasoning_content"] = m.ReasoningContent;
            list.Add(d);
        }
        return new ChatConversation(list, null, null, "(messages)");
    }

    /// <summary>Reads a messages file (UTF-8 JSON).</summary>
    /// <exception cref="ChatInputException">The file is missing, is not JSON, or is not a list of role/content objects.</exception>
    public static ChatConversation Load(string path)
    {
        if (!File.Exists(path)) throw new ChatInputException(path, "file", "not found (expected a JSON file with " + Expected + ")");
        return Parse(File.ReadAllText(path), path);
    }

    /// <param name="json">The JSON text.</param>
    /// <param name="sourceName">The file the text came from, for error messages.</param>
    public static ChatConversation Parse(string json, string sourceName)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json, new JsonDocumentOptions { AllowTrailingCommas = false });
        }
        catch (JsonException ex)
        {
            throw new ChatInputException(sourceName, $"line {(ex.LineNumber ?? 0) + 1}, column {(ex.BytePositionInLine ?? 0) + 1}",
                $"not valid JSON ({FirstSentence(ex.Message)}); expected {Expected}");
        }
        using (doc)
        {
            var root = doc.RootElement;
            JsonElement messages;
            object? tools = null, documents = null;
            var prefix = "";
            switch (root.ValueKind)
            {
                case JsonValueKind.Array:
                    messages = root;
                    break;
                case JsonValueKind.Object:
                    prefix = "messages";
                    if (!root.TryGetProperty("messages", out messages))
                        throw new ChatInputException(sourceName, "$", $"the object has no \"messages\" key; expected {Expected}");
                    if (messages.ValueKind != JsonValueKind.Array)
                        throw new ChatInputException(sourceName, "messages", $"is {Describe(messages)}; expected {Expected}");
                    foreach (var p in root.EnumerateObject())
                    {
                        switch (p.Name)
                        {
                            case "messages": break;
                            case "tools": tools = ListOrNull(sourceName, p); break;
                            case "documents": documents = ListOrNull(sourceName, p); break;
                            default: throw new ChatInputException(sourceName, p.Name, "unexpected key (expected messages, tools or documents)");
                        }
                    }
                    break;
                default:
                    throw new ChatInputException(sourceName, "$", $"the file holds {Describe(root)}; expected {Expected}");
            }
            var list = new List<object?>();
            var i = 0;
            foreach (var m in messages.EnumerateArray())
            {
                var at = $"{prefix}[{i}]";
                if (m.ValueKind != JsonValueKind.Object)
                    throw new ChatInputException(sourceName, at, $"is {Describe(m)}; expected a {{role, content}} object");
                if (!m.TryGetProperty("role", out var role))
                    throw new ChatInputException(sourceName, at, "has no \"role\"; expected a {role, content} object");
                if (role.ValueKind != JsonValueKind.String)
                    throw new ChatInputException(sourceName, at + ".role", $"is {Describe(role)}; expected a string such as \"user\"");
                if (m.TryGetProperty("content", out var content))
                {
                    if (content.ValueKind is not (JsonValueKind.String or JsonValueKind.Null or JsonValueKind.Array))
                        throw new ChatInputException(sourceName, at + ".content", $"is {Describe(content)}; expected a string, null or a list of content parts");
                }
                else if (!m.TryGetProperty("tool_calls", out _))
                    throw new ChatInputException(sourceName, at, "has no \"content\"; expected a {role, content} object");
                list.Add(ToValue(sourceName, at, m));
                i++;
            }
            return new ChatConversation(list, tools, documents, sourceName);
        }
    }

    static object? ListOrNull(string sourceName, JsonProperty p) => p.Value.ValueKind switch
    {
        JsonValueKind.Null => null,
        JsonValueKind.Array => ToValue(sourceName, p.Name, p.Value),
        _ => throw new ChatInputException(sourceName, p.Name, $"is {Describe(p.Value)}; expected a list of objects"),
    };

    static object? ToValue(string sourceName, string at, JsonElement e)
    {
        try
        {
            return PyValue.FromJson(e);
        }
        catch (ArgumentException ex)
        {
            throw new ChatInputException(sourceName, at, ex.Message);
        }
    }

    static string FirstSentence(string message)
    {
        var cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        return (cut > 0 ? message[..cut] : message).TrimEnd('.', ' ');
    }

    static string Describe(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "a list",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        _ => "null",
    };
}

using System.Text.Json;

namespace RaftPipeline.Serving.Protocol;

/// <summary>
/// A checked /v1/completions body: the model name, the prompt (one string, or one list of token ids), streaming and
/// the decoding fields. The prompt is continued verbatim, as <c>raft generate --prompt</c> does (no chat template).
/// </summary>
public sealed record CompletionRequest(string Model, string? Prompt, IReadOnlyList<int>? PromptIds, bool Stream, bool IncludeUsage, SamplingFields Sampling)
{
    public static CompletionRequest Read(JsonElement body)
    {
        var fields = new JsonFields(body);
        var model = fields.String("model", required: true)!;
        if (fields.Bool("echo") == true) throw OpenAiException.BadRequest("'echo' is not supported by this server", "echo", "unsupported_parameter");
        if (fields.Get("suffix") is not null) throw OpenAiException.BadRequest("'suffix' is not supported by this server", "suffix", "unsupported_parameter");
        if (fields.Integer("best_of") is { } bestOf && bestOf != 1) throw OpenAiException.BadRequest("'best_of' must be 1", "best_of", "invalid_value");
        var (prompt, ids) = ReadPrompt(fields.Get("prompt"));
        bool stream = fields.Bool("stream") ?? false;
        bool includeUsage = fields.Get("stream_options") is { ValueKind: JsonValueKind.Object } options
            && new JsonFields(options).Bool("include_usage") == true;
        return new CompletionRequest(model, prompt, ids, stream, includeUsage, SamplingFields.Read(fields));
    }

    static (string?, IReadOnlyList<int>?) ReadPrompt(JsonElement? prompt)
    {
        const string Expected = "a string, a list with one string, or a list of token ids";
        switch (prompt)
        {
            case null:
                throw OpenAiException.BadRequest("'prompt' is required", "prompt", "missing_required_parameter");
            case { ValueKind: JsonValueKind.String } s:
                return (s.GetString(), null);
            case { ValueKind: JsonValueKind.Array } list when list.GetArrayLength() == 1 && list[0].ValueKind == JsonValueKind.String:
                return (list[0].GetString(), null);
            case { ValueKind: JsonValueKind.Array } list when list.GetArrayLength() > 0 && list.EnumerateArray().All(e => e.ValueKind == JsonValueKind.Number && e.TryGetInt32(out var id) && id >= 0):
                return (null, list.EnumerateArray().Select(e => e.GetInt32()).ToList());
            case { ValueKind: JsonValueKind.Array } list when list.GetArrayLength() > 1:
                throw OpenAiException.BadRequest("'prompt' holds several prompts; send one prompt per request", "prompt", "invalid_value");
            default:
                throw OpenAiException.BadRequest($"'prompt' must be {Expected}", "prompt", "invalid_type");
        }
    }
}

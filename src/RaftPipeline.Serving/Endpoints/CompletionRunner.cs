using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using RaftPipeline.Modeling.Chat;
using RaftPipeline.Modeling.Generation;
using RaftPipeline.Serving.Protocol;

namespace RaftPipeline.Serving.Endpoints;

/// <summary>
/// The part both completion endpoints share once the prompt is ids: the length check against the model's context,
/// the engine's options, and the answer written whole or streamed as server-sent events. The request's
/// RequestAborted token goes to the engine, so a client that goes away ends its row at the next decode step.
/// </summary>
public static class CompletionRunner
{
    public static async Task RunAsync(HttpContext http, ServedModel served, IReadOnlyList<int> promptIds, SamplingFields sampling,
        bool stream, bool includeUsage, ResponseShape shape, string promptParam)
    {
        var engine = served.Engine;
        if (promptIds.Count == 0) throw OpenAiException.BadRequest("the prompt encodes to no tokens", promptParam, "invalid_value");
        var options = engine.Options(sampling.Settings);
        int room = served.ContextLength - promptIds.Count;
        if (room <= 0 || (sampling.MaxTokensGiven && options.MaxNewTokens > room))
        {
            throw OpenAiException.BadRequest(
                $"This model's maximum context length is {served.ContextLength} tokens. However, you requested " +
                $"{promptIds.Count + (sampling.MaxTokensGiven ? options.MaxNewTokens : 0)} tokens ({promptIds.Count} in the prompt, " +
                $"{(sampling.MaxTokensGiven ? options.MaxNewTokens : 0)} for the completion). Please reduce the length of the prompt or the completion.",
                promptParam, "context_length_exceeded");
        }
        if (!sampling.MaxTokensGiven) options = options with { MaxNewTokens = Math.Min(options.MaxNewTokens, room) };

        string id = shape.IdPrefix + Guid.NewGuid().ToString("N");
        long created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var cancellation = http.RequestAborted;
        if (!stream)
        {
            var answer = await engine.GenerateAsync(promptIds, options, cancellation);
            var body = Envelope(id, shape.Object, created, served.Name, shape.Choice(answer.Text, ResponseShape.FinishReasonName(answer.Finish)));
            body["usage"] = Usage(answer);
            await JsonResponses.WriteJsonAsync(http.Response, 200, body, cancellation);
            return;
        }

        JsonResponses.StartEventStream(http.Response);
        if (shape.Opening() is { } opening)
            await JsonResponses.WriteEventAsync(http.Response, Chunk(opening), cancellation);
        await foreach (var update in engine.StreamAsync(promptIds, options, cancellation))
        {
            if (update.Text.Length > 0)
                await JsonResponses.WriteEventAsync(http.Response, Chunk(shape.Delta(update.Text, null)), cancellation);
            if (update.Answer is { } answer)
            {
                var last = Envelope(id, shape.ChunkObject, created, served.Name, shape.Delta(null, ResponseShape.FinishReasonName(answer.Finish)));
                await JsonResponses.WriteEventAsync(http.Response, JsonResponses.Serialize(last), cancellation);
                if (includeUsage)
                {
                    var usage = Envelope(id, shape.ChunkObject, created, served.Name, null);
                    usage["usage"] = Usage(answer);
                    await JsonResponses.WriteEventAsync(http.Response, JsonResponses.Serialize(usage), cancellation);
                }
            }
        }
        await JsonResponses.WriteEventAsync(http.Response, "[DONE]", cancellation);

        string Chunk(JsonObject choice) => JsonResponses.Serialize(Envelope(id, shape.ChunkObject, created, served.Name, choice));
    }

    /// <summary>The fields every response and chunk has; <paramref name="choice"/> null gives an empty choices list (the usage chunk).</summary>
    static JsonObject Envelope(string id, string objectName, long created, string model, JsonObject? choice) => new()
    {
        ["id"] = id,
        ["object"] = objectName,
        ["created"] = created,
        ["model"] = model,
        ["choices"] = choice is null ? new JsonArray() : new JsonArray(choice),
    };

    static JsonObject Usage(ChatAnswer answer) => new()
    {
        ["prompt_tokens"] = answer.PromptTokens,
        ["completion_tokens"] = answer.CompletionTokens,
        ["total_tokens"] = answer.PromptTokens + answer.CompletionTokens,
    };
}

using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using RaftPipeline.Serving.Protocol;
using RaftPipeline.Text.Templates;
using RaftPipeline.Text.Templates.Jinja;

namespace RaftPipeline.Serving.Endpoints;

/// <summary>
/// The routes: POST /v1/chat/completions, POST /v1/completions, GET /v1/models, GET /health. Every refusal is an
/// <see cref="OpenAiException"/> written as OpenAI's error body; the server goes on serving.
/// </summary>
public static class OpenAiEndpoints
{
    public static void Map(IEndpointRouteBuilder routes, ServedModels models, ServeOptions options)
    {
        routes.MapGet("/health", () => Results.Json(new { status = "ok" }));
        routes.MapGet("/v1/models", (HttpContext http) => Handle(http, options, () => ListModels(http, models)));
        routes.MapPost("/v1/chat/completions", (HttpContext http) => Handle(http, options, () => ChatAsync(http, models)));
        routes.MapPost("/v1/completions", (HttpContext http) => Handle(http, options, () => CompleteAsync(http, models)));
    }

    static async Task Handle(HttpContext http, ServeOptions options, Func<Task> endpoint)
    {
        try
        {
            CheckApiKey(http, options.ApiKey);
            await endpoint();
        }
        catch (OpenAiException e) when (!http.Response.HasStarted)
        {
            await JsonResponses.WriteErrorAsync(http.Response, e);
        }
        catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested)
        {
            // The client went away; its generation was cancelled with the same token.
        }
        catch (Exception e) when (!http.Response.HasStarted && e is not OperationCanceledException)
        {
            await JsonResponses.WriteErrorAsync(http.Response, new OpenAiException(500, $"the server failed: {e.Message}", "server_error", null, null));
        }
    }

    static void CheckApiKey(HttpContext http, string? apiKey)
    {
        if (apiKey is null) return;
        string header = http.Request.Headers.Authorization.ToString();
        if (header == $"Bearer {apiKey}") return;
        throw new OpenAiException(401,
            header.Length == 0 ? "You didn't provide an API key: send 'Authorization: Bearer KEY'." : "Incorrect API key provided.",
            "invalid_request_error", null, "invalid_api_key");
    }

    static Task ListModels(HttpContext http, ServedModels models)
    {
        var data = new JsonArray();
        foreach (var m in models.All)
        {
            data.Add(new JsonObject
            {
                ["id"] = m.Name,
                ["object"] = "model",
                ["created"] = 0,
                ["owned_by"] = "raftpipeline",
                ["root"] = m.Engine.ModelDirectory,
                ["parent"] = m.Parent,
                ["max_model_len"] = m.ContextLength,
            });
        }
        return JsonResponses.WriteJsonAsync(http.Response, 200, new JsonObject { ["object"] = "list", ["data"] = data }, http.RequestAborted);
    }

    static async Task ChatAsync(HttpContext http, ServedModels models)
    {
        var request = ChatCompletionRequest.Read(await ReadBodyAsync(http));
        var served = Find(models, request.Model);
        int[] ids;
        try
        {
            ids = served.Engine.RenderChat(ChatConversation.FromMessages(request.Messages)).Ids;
        }
        catch (Exception e) when (e is ChatInputException or TemplateException)
        {
            throw OpenAiException.BadRequest($"the model's chat template cannot render these messages: {e.Message}", "messages", "invalid_value");
        }
        catch (ArgumentException e) // an unpaired surrogate: the text is not Unicode
        {
            throw OpenAiException.BadRequest($"'messages' holds text that is not valid Unicode: {e.Message}", "messages", "invalid_value");
        }
        await CompletionRunner.RunAsync(http, served, ids, request.Sampling, request.Stream, request.IncludeUsage, ResponseShape.Chat, "messages");
    }

    static async Task CompleteAsync(HttpContext http, ServedModels models)
    {
        var request = CompletionRequest.Read(await ReadBodyAsync(http));
        var served = Find(models, request.Model);
        IReadOnlyList<int> ids;
        try
        {
            ids = request.PromptIds ?? served.Engine.EncodePrompt(request.Prompt!);
        }
        catch (ArgumentException e)
        {
            throw OpenAiException.BadRequest($"'prompt' is not valid Unicode: {e.Message}", "prompt", "invalid_value");
        }
        if (request.PromptIds is { } given && given.Max() >= served.Engine.Model.Config.VocabSize)
            throw OpenAiException.BadRequest($"'prompt' holds token id {given.Max()}, beyond the model's vocabulary of {served.Engine.Model.Config.VocabSize}", "prompt", "invalid_value");
        await CompletionRunner.RunAsync(http, served, ids, request.Sampling, request.Stream, request.IncludeUsage, ResponseShape.Text, "prompt");
    }

    static ServedModel Find(ServedModels models, string name) => models.Find(name)
        ?? throw OpenAiException.BadRequest(
            $"The model '{name}' does not exist. Served models: {string.Join(", ", models.All.Select(m => m.Name))}.", "model", "model_not_found");

    static async Task<JsonElement> ReadBodyAsync(HttpContext http)
    {
        try
        {
            using var doc = await JsonDocument.ParseAsync(http.Request.Body, cancellationToken: http.RequestAborted);
            return doc.RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw OpenAiException.BadRequest(
                $"We could not parse the JSON body of your request: line {(e.LineNumber ?? 0) + 1}, position {(e.BytePositionInLine ?? 0) + 1}: {e.Message.Split(" LineNumber:")[0]}",
                null, "invalid_json");
        }
    }
}

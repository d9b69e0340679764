using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace RaftPipeline.Serving.Protocol;

/// <summary>Writing JSON bodies and server-sent events (<c>data: {json}\n\n</c>, ended by <c>data: [DONE]</c>).</summary>
public static class JsonResponses
{
    // Korean and other non-ASCII text stays readable in curl rather than \uXXXX-escaped.
    static readonly JsonSerializerOptions Options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static string Serialize(JsonNode node) => node.ToJsonString(Options);

    public static async Task WriteJsonAsync(HttpResponse response, int status, JsonNode body, CancellationToken cancellation)
    {
        response.StatusCode = status;
        response.ContentType = "application/json";
        await response.WriteAsync(Serialize(body), cancellation);
    }

    public static Task WriteErrorAsync(HttpResponse response, OpenAiException error) =>
        WriteJsonAsync(response, error.Status, new JsonObject
        {
            ["error"] = new JsonObject
            {
                ["message"] = error.Message,
                ["type"] = error.Type,
                ["param"] = error.Param,
                ["code"] = error.Code,
            },
        }, CancellationToken.None);

    public static void StartEventStream(HttpResponse response)
    {
        response.StatusCode = 200;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no"; // proxies must not hold events back
    }

    public static async Task WriteEventAsync(HttpResponse response, string data, CancellationToken cancellation)
    {
        await response.WriteAsync($"data: {data}\n\n", cancellation);
        await response.Body.FlushAsync(cancellation);
    }
}

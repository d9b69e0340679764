using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using RaftPipeline.Modeling.Chat;

namespace RaftPipeline.Serving.Tests;

/// <summary>The wire format over plain HTTP: /v1/completions, /health, and every refusal as OpenAI's error body, the server serving on.</summary>
[Collection(ServerCollection.Name)]
public sealed class HttpProtocolTests(ServerFixture server)
{
    static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    async Task<(HttpStatusCode Status, JsonElement Body)> Post(string path, string body, bool withKey = true)
    {
        using var http = server.Http(withKey);
        using var response = await http.PostAsync(path, Json(body));
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, JsonDocument.Parse(text).RootElement.Clone());
    }

    static void AssertError(JsonElement body, string? param, string? code)
    {
        var error = body.GetProperty("error");
        Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
        Assert.False(string.IsNullOrWhiteSpace(error.GetProperty("message").GetString()));
        Assert.Equal(param, error.GetProperty("param").ValueKind == JsonValueKind.Null ? null : error.GetProperty("param").GetString());
        Assert.Equal(code, error.GetProperty("code").ValueKind == JsonValueKind.Null ? null : error.GetProperty("code").GetString());
    }

    [Fact]
    public async Task A_completion_continues_the_prompt_verbatim_as_raft_generate_does()
    {
        var (status, body) = await Post("/v1/completions", """{"model":"tiny","prompt":"The capital of Korea is","max_tokens":6,"temperature":0}""");

        Assert.Equal(HttpStatusCode.OK, status);
        var engine = server.BaseEngine;
        var ids = engine.EncodePrompt("The capital of Korea is");
        var direct = engine.Generate(ids, engine.Options(new SamplingSettings { Greedy = true, MaxNewTokens = 6 }));
        Assert.Equal("text_completion", body.GetProperty("object").GetString());
        Assert.Equal(direct.Text, body.GetProperty("choices")[0].GetProperty("text").GetString());
        Assert.Equal("length", body.GetProperty("choices")[0].GetProperty("finish_reason").GetString());
        Assert.Equal(ids.Length, body.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
        Assert.Equal(6, body.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
    }

    [Fact]
    public async Task A_streamed_completion_is_server_sent_events_ending_with_done()
    {
        using var http = server.Http();
        using var response = await http.PostAsync("/v1/completions", Json("""{"model":"tiny","prompt":"Once upon a time","max_tokens":5,"temperature":0,"stream":true}"""));
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType!.MediaType);
        var events = (await response.Content.ReadAsStringAsync()).Split("\n\n", StringSplitOptions.RemoveEmptyEntries);

        Assert.All(events, e => Assert.StartsWith("data: ", e));
        Assert.Equal("data: [DONE]", events[^1]);
        var chunks = events[..^1].Select(e => JsonDocument.Parse(e["data: ".Length..]).RootElement).ToList();
        var engine = server.BaseEngine;
        var direct = engine.Generate(engine.EncodePrompt("Once upon a time"), engine.Options(new SamplingSettings { Greedy = true, MaxNewTokens = 5 }));
        Assert.Equal(direct.Text, string.Concat(chunks.Select(c => c.GetProperty("choices")[0].GetProperty("text").GetString())));
        Assert.Equal("length", chunks[^1].GetProperty("choices")[0].GetProperty("finish_reason").GetString());
    }

    [Fact]
    public async Task Health_needs_no_key()
    {
        using var http = server.Http(withKey: false);
        using var response = await http.GetAsync("/health");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("ok", JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("status").GetString());
    }

    [Theory]
    [InlineData("{\"model\":\"tiny\",\"messages\":[{\"role\":\"user\",", null, "invalid_json")]
    [InlineData("[1,2]", null, "invalid_json")]
    [InlineData("{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", "model", "missing_required_parameter")]
    [InlineData("{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", "model", "model_not_found")]
    [InlineData("{\"model\":\"tiny\"}", "messages", "missing_required_parameter")]
    [InlineData("{\"model\":\"tiny\",\"messages\":[]}", "messages", "invalid_value")]
    [InlineData("{\"model\":\"tiny\",\"messages\":[{\"role\":\"wizard\",\"content\":\"hi\"}]}", "messages[0].role", "invalid_value")]
    [InlineData("{\"model\":\"tiny\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"temperature\":3}", "temperature", "invalid_value")]
    [InlineData("{\"model\":\"tiny\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"temperature\":\"hot\"}", "temperature", "invalid_type")]
    [InlineData("{\"model\":\"tiny\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"top_p\":0}", "top_p", "invalid_value")]
    [InlineData("{\"model\":\"tiny\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":0}", "max_tokens", "invalid_value")]
    [InlineData("{\"model\":\"tiny\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"n\":2}", "n", "invalid_value")]
    [InlineData("{\"model\":\"tiny\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"stop\":[\"a\",\"b\",\"c\",\"d\",\"e\"]}", "stop", "invalid_value")]
    [InlineData("{\"model\":\"tiny\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":5000}", "messages", "context_length_exceeded")]
    [InlineData("{\"model\":\"tiny\",\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\",\"image_url\":{\"url\":\"x\"}}]}]}", "messages[0].content[0].type", "unsupported_parameter")]
    public async Task Bad_chat_requests_get_400_with_an_openai_error_body_and_the_server_keeps_serving(string body, string? param, string? code)
    {
        var (status, error) = await Post("/v1/chat/completions", body);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        AssertError(error, param, code);

        var (okStatus, ok) = await Post("/v1/chat/completions", """{"model":"tiny","messages":[{"role":"user","content":"hi"}],"max_tokens":2,"temperature":0}""");
        Assert.Equal(HttpStatusCode.OK, okStatus);
        Assert.Equal(2, ok.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
    }

    [Fact]
    public async Task A_too_long_prompt_is_refused_with_the_lengths()
    {
        var prompt = string.Join(' ', Enumerable.Repeat("word", ServerFixture.ContextLength));
        var (status, error) = await Post("/v1/completions", JsonSerializer.Serialize(new { model = "tiny", prompt, max_tokens = 4 }));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        AssertError(error, "prompt", "context_length_exceeded");
        Assert.Contains($"maximum context length is {ServerFixture.ContextLength} tokens", error.GetProperty("error").GetProperty("message").GetString());
    }

    [Fact]
    public async Task A_missing_key_is_401()
    {
        var (status, body) = await Post("/v1/chat/completions", """{"model":"tiny","messages":[{"role":"user","content":"hi"}]}""", withKey: false);
        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Equal("invalid_api_key", body.GetProperty("error").GetProperty("code").GetString());
    }
}

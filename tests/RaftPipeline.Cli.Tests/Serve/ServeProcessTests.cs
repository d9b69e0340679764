using System.Diagnostics;
using System.Text.Json;
using RaftPipeline.Cli.Tests.Generate;

namespace RaftPipeline.Cli.Tests.Serve;

/// <summary>`raft serve` as users run it: a process on a socket, driven by curl; SIGTERM drains.</summary>
[Collection(TinyModelCollection.Name)]
public sealed class ServeProcessTests(TinyModelFixture tiny)
{
    const string Key = "k-123";
    const string Messages = """[{"role":"system","content":"Be brief."},{"role":"user","content":"서울에 대해 말해줘"}]""";

    static string[] Json(string url, string body, bool key = true) =>
        [.. new[] { "-s", "-w", "\n%{http_code}", "-H", "Content-Type: application/json" }, .. key ? new[] { "-H", $"Authorization: Bearer {Key}" } : [], "-d", body, url];

    [Fact]
    public async Task Curl_gets_what_raft_generate_gives_whole_and_streamed_and_bad_input_gets_400()
    {
        // What `raft generate` answers for the same conversation.
        var conv = Path.Combine(tiny.Root, "serve-conv.json");
        File.WriteAllText(conv, Messages);
        var generated = TinyModelFixture.Raft("generate", "--model", tiny.ModelDir, "--messages", conv, "--greedy", "--max-new-tokens", "6", "--device", "cpu", "--json");
        Assert.Equal(0, generated.Exit);
        var expected = JsonDocument.Parse(generated.Out).RootElement;
        string expectedText = expected.GetProperty("text").GetString()!;

        using var server = await ServeProcess.StartAsync("--model", tiny.ModelDir, "--served-model-name", "tiny", "--api-key", Key, "--device", "cpu");
        var chat = new Uri(server.Address, "/v1/chat/completions").ToString();
        string body = $$"""{"model":"tiny","messages":{{Messages}},"max_tokens":6,"temperature":0}""";

        var (exit, output) = await ServeProcess.Curl(Json(chat, body));
        Assert.Equal(0, exit);
        var (json, status) = Split(output);
        Assert.Equal("200", status);
        var response = JsonDocument.Parse(json).RootElement;
        Assert.Equal(expectedText, response.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());
        Assert.Equal(expected.GetProperty("prompt_ids").GetArrayLength(), response.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
        Assert.Equal(expected.GetProperty("generated_ids").GetArrayLength(), response.GetProperty("usage").GetProperty("completion_tokens").GetInt32());

        (exit, output) = await ServeProcess.Curl(["-sN", "-H", $"Authorization: Bearer {Key}", "-d", body.Replace("\"temperature\":0", "\"temperature\":0,\"stream\":true"), chat]);
        Assert.Equal(0, exit);
        var events = output.Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("data: [DONE]", events[^1]);
        var deltas = events[..^1].Select(e => JsonDocument.Parse(e["data: ".Length..]).RootElement.GetProperty("choices")[0]).ToList();
        Assert.Equal("assistant", deltas[0].GetProperty("delta").GetProperty("role").GetString());
        Assert.Equal(expectedText, string.Concat(deltas.Select(d => d.GetProperty("delta").TryGetProperty("content", out var c) ? c.GetString() : "")));
        Assert.Equal("length", deltas[^1].GetProperty("finish_reason").GetString());

        (_, output) = await ServeProcess.Curl(Json(chat, """{"model":"tiny","messages":[{"role":"user","content":"hi"}"""));
        (json, status) = Split(output);
        Assert.Equal("400", status);
        Assert.Equal("invalid_json", JsonDocument.Parse(json).RootElement.GetProperty("error").GetProperty("code").GetString());

        (_, output) = await ServeProcess.Curl(Json(chat, body, key: false));
        Assert.Equal("401", Split(output).Status);

        // Still serving after the refusals.
        (_, output) = await ServeProcess.Curl(Json(chat, body));
        Assert.Equal("200", Split(output).Status);
    }

    [Fact]
    public async Task Sigterm_lets_a_running_stream_finish_then_exits_0()
    {
        using var server = await ServeProcess.StartAsync("--model", tiny.ModelDir, "--served-model-name", "tiny", "--device", "cpu");
        var chat = new Uri(server.Address, "/v1/chat/completions").ToString();
        const int tokens = 300;
        var start = new ProcessStartInfo("curl") { RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var a in new[] { "-sN", "-d", $$"""{"model":"tiny","messages":[{"role":"user","content":"count"}],"max_tokens":{{tokens}},"temperature":0,"stream":true}""", chat })
            start.ArgumentList.Add(a);
        using var curl = Process.Start(start)!;
        var first = await curl.StandardOutput.ReadLineAsync(); // the stream has begun
        Assert.StartsWith("data: ", first);

        server.Terminate();
        var rest = await curl.StandardOutput.ReadToEndAsync();
        await curl.WaitForExitAsync();

        var events = (first + "\n" + rest).Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("data: [DONE]", events[^1]);
        Assert.Contains("\"finish_reason\":\"length\"", events[^2]);
        Assert.Equal(0, await server.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        Assert.Contains("running requests drained", server.Stderr);
        var (refused, _) = await ServeProcess.Curl(["-s", "-m", "5", new Uri(server.Address, "/health").ToString()]);
        Assert.NotEqual(0, refused);
    }

    [Theory]
    [InlineData("--model", "/no/such/folder", "--model: folder not found: /no/such/folder")]
    [InlineData("--adapter", "tuned=/no/such/adapter", "--adapter: folder not found: /no/such/adapter")]
    [InlineData("--adapter", "=x", "--adapter: '=x' is not NAME=DIR")]
    [InlineData("--max-batch-size", "0", "--max-batch-size must be at least 1, got 0")]
    public void Bad_arguments_exit_2_naming_the_option(string option, string value, string message)
    {
        string[] args = option == "--model" ? ["serve", option, value] : ["serve", "--model", tiny.ModelDir, option, value];
        var (exit, _, stderr) = TinyModelFixture.Raft(args);
        Assert.Equal(2, exit);
        Assert.Equal($"raft serve: {message}", stderr.Trim());
    }

    static (string Json, string Status) Split(string curlOutput)
    {
        int cut = curlOutput.LastIndexOf('\n');
        return (curlOutput[..cut], curlOutput[(cut + 1)..]);
    }
}

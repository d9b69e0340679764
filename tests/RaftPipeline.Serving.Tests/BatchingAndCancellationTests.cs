using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using RaftPipeline.Text.Templates;

namespace RaftPipeline.Serving.Tests;

/// <summary>Concurrent requests share decode steps and still get their own answers; a client that leaves mid-stream cancels its row.</summary>
[Collection(ServerCollection.Name)]
public sealed class BatchingAndCancellationTests(ServerFixture server)
{
    static string ChatBody(string user, int maxTokens, bool stream = false) => JsonSerializer.Serialize(new
    {
        model = ServerFixture.AdapterName,
        messages = new[] { new { role = "user", content = user } },
        max_tokens = maxTokens,
        temperature = 0,
        stream,
    });

    static async Task<string> Content(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString()!;

    [Fact]
    public async Task Requests_that_wait_together_run_as_one_batch_and_each_gets_its_own_greedy_answer()
    {
        string[] questions = ["첫 번째 질문", "a second, longer question about something", "세 번째"];
        var expected = questions.Select(q => server.Greedy(server.TunedEngine, [new ChatMessage("user", q)], 6)).ToList();
        var before = server.TunedEngine.Stats;

        using var http = server.Http();
        // A long request keeps the decode loop busy, so the three that follow queue up and are taken as one batch.
        var busy = http.PostAsync("/v1/chat/completions", new StringContent(ChatBody("busy", 150), Encoding.UTF8, "application/json"));
        await Task.Delay(50);
        var answers = await Task.WhenAll(questions.Select(async q =>
        {
            using var response = await http.PostAsync("/v1/chat/completions", new StringContent(ChatBody(q, 6), Encoding.UTF8, "application/json"));
            return await Content(response);
        }));
        (await busy).Dispose();

        Assert.Equal(expected, answers);
        var after = server.TunedEngine.Stats;
        Assert.Equal(4, after.Sequences - before.Sequences);
        Assert.True(after.LargestBatch >= 2, $"largest batch {after.LargestBatch}: the waiting requests were stepped together");
        Assert.True(after.Batches - before.Batches < 4, $"{after.Batches - before.Batches} batches for 4 requests");
    }

    [Fact]
    public async Task A_client_that_disconnects_mid_stream_cancels_its_generation()
    {
        var engine = server.BaseEngine;
        var before = engine.Stats;
        const int asked = 3000;
        using (var http = server.Http())
        {
            var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
            {
                Content = new StringContent(ChatBody("keep talking", asked, stream: true).Replace(ServerFixture.AdapterName, ServerFixture.BaseName), Encoding.UTF8, "application/json"),
            };
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
            int contentEvents = 0;
            while (contentEvents < 3 && await reader.ReadLineAsync() is { } line)
                if (line.Contains("\"content\":\"") && !line.Contains("\"role\"")) contentEvents++;
            Assert.Equal(3, contentEvents);
        } // the connection closes here, long before 3000 tokens

        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (engine.Stats.Cancelled == before.Cancelled && DateTime.UtcNow < deadline) await Task.Delay(50);
        var after = engine.Stats;
        Assert.Equal(before.Cancelled + 1, after.Cancelled);
        Assert.True(after.GeneratedTokens - before.GeneratedTokens < asked, $"{after.GeneratedTokens - before.GeneratedTokens} tokens generated of {asked} asked");
        Assert.Contains("client gone", server.Log.ToString());
    }
}

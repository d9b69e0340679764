using System.ClientModel;
using Microsoft.Extensions.AI;
using OpenAI;
using OpenAI.Models;
using TemplateMessage = RaftPipeline.Text.Templates.ChatMessage;

namespace RaftPipeline.Serving.Tests;

/// <summary>The official OpenAI .NET client, through Microsoft.Extensions.AI.OpenAI, against the real server (a socket on 127.0.0.1).</summary>
[Collection(ServerCollection.Name)]
public sealed class OpenAiClientTests(ServerFixture server)
{
    const string Question = "한국의 수도는 어디야?";

    OpenAIClientOptions ClientOptions => new() { Endpoint = server.ApiBase, NetworkTimeout = TimeSpan.FromSeconds(60) };

    IChatClient Client(string model) =>
        new OpenAI.Chat.ChatClient(model, new ApiKeyCredential(ServerFixture.ApiKey), ClientOptions).AsIChatClient();

    static List<ChatMessage> Messages() => [new(ChatRole.System, "Answer briefly."), new(ChatRole.User, Question)];
    static List<TemplateMessage> Same() => [new("system", "Answer briefly."), new("user", Question)];

    [Fact]
    public async Task A_greedy_answer_is_what_the_engine_gives_with_usage_and_finish_reason()
    {
        var response = await Client(ServerFixture.BaseName).GetResponseAsync(Messages(), new ChatOptions { Temperature = 0, MaxOutputTokens = 7 });

        var expected = server.Greedy(server.BaseEngine, Same(), 7);
        Assert.Equal(expected, response.Text);
        Assert.Equal(ChatFinishReason.Length, response.FinishReason);
        Assert.Equal(ServerFixture.BaseName, response.ModelId);
        var prompt = server.BaseEngine.RenderChat(Text.Templates.ChatConversation.FromMessages(Same())).Ids.Length;
        Assert.Equal(prompt, response.Usage!.InputTokenCount);
        Assert.Equal(7, response.Usage.OutputTokenCount);
        Assert.Equal(prompt + 7, response.Usage.TotalTokenCount);
    }

    [Fact]
    public async Task A_streamed_answer_concatenates_to_the_same_text_and_ends_with_usage()
    {
        var updates = new List<ChatResponseUpdate>();
        await foreach (var update in Client(ServerFixture.BaseName).GetStreamingResponseAsync(Messages(), new ChatOptions { Temperature = 0, MaxOutputTokens = 9 }))
            updates.Add(update);

        Assert.Equal(server.Greedy(server.BaseEngine, Same(), 9), string.Concat(updates.Select(u => u.Text)));
        Assert.True(updates.Count(u => u.Text.Length > 0) > 1, "the text came in several events");
        Assert.Equal(ChatFinishReason.Length, updates.Last(u => u.FinishReason is not null).FinishReason);
        var usage = updates.SelectMany(u => u.Contents).OfType<UsageContent>().Single().Details;
        Assert.Equal(9, usage.OutputTokenCount);
    }

    [Fact]
    public async Task The_request_model_picks_the_adapter()
    {
        var options = new ChatOptions { Temperature = 0, MaxOutputTokens = 6 };
        var tuned = await Client(ServerFixture.AdapterName).GetResponseAsync(Messages(), options);

        var expected = server.Greedy(server.TunedEngine, Same(), 6);
        Assert.Equal(expected, tuned.Text);
        Assert.NotEqual(server.Greedy(server.BaseEngine, Same(), 6), expected);
        Assert.Equal(ServerFixture.AdapterName, tuned.ModelId);
    }

    [Fact]
    public async Task A_stop_sequence_cuts_the_answer_before_it_and_finishes_with_stop()
    {
        var full = server.Greedy(server.TunedEngine, Same(), 12);
        Assert.True(full.Length >= 4, $"the greedy text is long enough to cut: '{full}'");
        var stop = full.Substring(full.Length / 2, 2);
        var response = await Client(ServerFixture.AdapterName).GetResponseAsync(Messages(),
            new ChatOptions { Temperature = 0, MaxOutputTokens = 12, StopSequences = [stop] });

        Assert.Equal(full[..full.IndexOf(stop, StringComparison.Ordinal)], response.Text);
        Assert.Equal(ChatFinishReason.Stop, response.FinishReason);
    }

    [Fact]
    public async Task A_seed_makes_sampling_repeatable()
    {
        ChatOptions Sampling(long seed) => new() { Temperature = 1.5f, TopP = 0.95f, Seed = seed, MaxOutputTokens = 8 };
        var client = Client(ServerFixture.AdapterName);
        var first = await client.GetResponseAsync(Messages(), Sampling(1234));
        var second = await client.GetResponseAsync(Messages(), Sampling(1234));
        var others = await Task.WhenAll(new long[] { 1, 2, 3 }.Select(seed => client.GetResponseAsync(Messages(), Sampling(seed))));

        Assert.Equal(first.Text, second.Text);
        Assert.Contains(others, o => o.Text != first.Text);
        // The engine on its own thread, same knobs: the queue's per-row generator draws what a lone generate() draws.
        var engine = server.TunedEngine;
        var ids = engine.RenderChat(Text.Templates.ChatConversation.FromMessages(Same())).Ids;
        var direct = engine.Generate(ids, engine.Options(new Modeling.Chat.SamplingSettings { Temperature = 1.5, TopP = 0.95, Seed = 1234, MaxNewTokens = 8 }));
        Assert.Equal(direct.Text, first.Text);
    }

    [Fact]
    public async Task The_models_list_names_the_base_and_the_adapter()
    {
        var models = new OpenAIModelClient(new ApiKeyCredential(ServerFixture.ApiKey), ClientOptions);
        var list = (await models.GetModelsAsync()).Value;
        Assert.Equal([ServerFixture.BaseName, ServerFixture.AdapterName], list.Select(m => m.Id).Order());
    }

    [Fact]
    public async Task A_wrong_api_key_is_refused_with_401()
    {
        var client = new OpenAI.Chat.ChatClient(ServerFixture.BaseName, new ApiKeyCredential("wrong"), ClientOptions).AsIChatClient();
        var e = await Assert.ThrowsAsync<ClientResultException>(() => client.GetResponseAsync(Messages()));
        Assert.Equal(401, e.Status);
        Assert.Contains("Incorrect API key", e.Message);
    }

    [Fact]
    public async Task An_unknown_model_is_a_400_the_client_reports()
    {
        var e = await Assert.ThrowsAsync<ClientResultException>(() => Client("nope").GetResponseAsync(Messages()));
        Assert.Equal(400, e.Status);
        Assert.Contains("The model 'nope' does not exist", e.Message);
    }
}

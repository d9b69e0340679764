using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using RaftPipeline.Modeling.Chat;
using RaftPipeline.Text.Templates;
using TemplateMessage = RaftPipeline.Text.Templates.ChatMessage;

namespace RaftPipeline.Extensions.AI.Tests;

/// <summary>The in-process IChatClient: the same greedy answers as the chat engine, ChatOptions, usage, finish reasons, DI, typed refusals.</summary>
[Collection(TinyCollection.Name)]
public sealed class RaftChatClientTests(TinyFolders tiny)
{
    static List<Microsoft.Extensions.AI.ChatMessage> Conversation() =>
        [new(ChatRole.System, "짧게 답해."), new(ChatRole.User, "오늘 날씨 어때?")];

    /// <summary>What a separately loaded engine answers greedily for the same conversation (as `raft generate --greedy` runs it).</summary>
    ChatAnswer Engine(string model, string? adapter, int maxTokens, IReadOnlyList<string>? stops = null)
    {
        var engine = adapter is null ? tiny.BaseEngine : tiny.TunedEngine;
        var ids = engine.RenderChat(ChatConversation.FromMessages([new TemplateMessage("system", "짧게 답해."), new TemplateMessage("user", "오늘 날씨 어때?")])).Ids;
        return engine.Generate(ids, engine.Options(new SamplingSettings { Greedy = true, MaxNewTokens = maxTokens, StopStrings = stops ?? [] }));
    }

    /// <summary>The class's shared client (disposing the returned wrapper does nothing).</summary>
    Shared Client(string? adapter = null) => new(adapter is null ? tiny.BaseClient : tiny.TunedClient);

    sealed class Shared(RaftChatClient client) : DelegatingChatClient(client)
    {
        public ChatEngine Engine => client.Engine;
        protected override void Dispose(bool disposing) { }
    }

    [Fact]
    public async Task A_greedy_response_is_the_engines_answer_with_usage_and_finish_reason()
    {
        using var client = Client(tiny.AdapterDir);
        var response = await client.GetResponseAsync(Conversation(), new ChatOptions { Temperature = 0, MaxOutputTokens = 8 });

        var expected = Engine(tiny.ModelDir, tiny.AdapterDir, 8);
        Assert.Equal(expected.Text, response.Text);
        Assert.Equal(ChatRole.Assistant, response.Messages.Single().Role);
        Assert.Equal(expected.Finish == Modeling.Generation.FinishReason.Length ? ChatFinishReason.Length : ChatFinishReason.Stop, response.FinishReason);
        Assert.Equal(expected.PromptTokens, response.Usage!.InputTokenCount);
        Assert.Equal(expected.CompletionTokens, response.Usage.OutputTokenCount);
        Assert.Equal("tiny", response.ModelId);
        Assert.NotEqual(Engine(tiny.ModelDir, null, 8).Text, expected.Text); // the adapter is really attached
    }

    [Fact]
    public async Task Streaming_concatenates_to_the_same_text_and_ends_with_finish_reason_and_usage()
    {
        using var client = Client(tiny.AdapterDir);
        var updates = new List<ChatResponseUpdate>();
        await foreach (var update in client.GetStreamingResponseAsync(Conversation(), new ChatOptions { Temperature = 0, MaxOutputTokens = 10 }))
            updates.Add(update);

        var expected = Engine(tiny.ModelDir, tiny.AdapterDir, 10);
        Assert.Equal(expected.Text, string.Concat(updates.Select(u => u.Text)));
        var response = updates.ToChatResponse();
        Assert.Equal(expected.Text, response.Text);
        Assert.NotNull(response.FinishReason);
        Assert.Equal(expected.CompletionTokens, response.Usage!.OutputTokenCount);
        Assert.Single(updates.Select(u => u.ResponseId).Distinct());
    }

    [Fact]
    public async Task Stop_sequences_cut_the_answer_and_finish_with_stop()
    {
        var full = Engine(tiny.ModelDir, tiny.AdapterDir, 12).Text;
        Assert.True(full.Length >= 4, $"the greedy text is long enough to cut: '{full}'");
        var stop = full.Substring(full.Length / 2, 2);
        using var client = Client(tiny.AdapterDir);

        var response = await client.GetResponseAsync(Conversation(), new ChatOptions { Temperature = 0, MaxOutputTokens = 12, StopSequences = [stop] });

        Assert.Equal(full[..full.IndexOf(stop, StringComparison.Ordinal)], response.Text);
        Assert.Equal(ChatFinishReason.Stop, response.FinishReason);
    }

    [Fact]
    public async Task Seed_top_p_and_top_k_reach_the_sampler()
    {
        using var client = Client(tiny.AdapterDir);
        ChatOptions Options(long seed) => new() { Temperature = 1.5f, TopP = 0.9f, TopK = 20, Seed = seed, MaxOutputTokens = 8 };
        var a = await client.GetResponseAsync(Conversation(), Options(42));
        var b = await client.GetResponseAsync(Conversation(), Options(42));

        Assert.Equal(a.Text, b.Text);
        var engine = client.Engine;
        var ids = engine.RenderChat(ChatConversation.FromMessages([new TemplateMessage("system", "짧게 답해."), new TemplateMessage("user", "오늘 날씨 어때?")])).Ids;
        var direct = engine.Generate(ids, engine.Options(new SamplingSettings { Temperature = 1.5, TopP = 0.9, TopK = 20, Seed = 42, MaxNewTokens = 8 }));
        Assert.Equal(direct.Text, a.Text);
    }

    [Fact]
    public async Task AddRaftChatClient_registers_an_IChatClient_with_metadata()
    {
        var services = new ServiceCollection();
        services.AddRaftChatClient(o =>
        {
            o.ModelDirectory = tiny.ModelDir;
            o.Device = "cpu";
            o.ModelId = "my-tiny";
        });
        using var provider = services.BuildServiceProvider();
        var chat = provider.GetRequiredService<IChatClient>();

        Assert.Same(chat, provider.GetRequiredService<RaftChatClient>());
        Assert.Equal("my-tiny", chat.GetService<ChatClientMetadata>()!.DefaultModelId);
        var response = await chat.GetResponseAsync(Conversation(), new ChatOptions { Temperature = 0, MaxOutputTokens = 4 });
        Assert.Equal(Engine(tiny.ModelDir, null, 4).Text, response.Text);
        Assert.Equal("my-tiny", response.ModelId);
    }

    [Fact]
    public void A_missing_folder_is_a_ModelFolder_error_naming_it()
    {
        var e = Assert.Throws<RaftChatClientException>(() => new RaftChatClient(new RaftChatClientOptions { ModelDirectory = "/no/such/model" }));
        Assert.Equal(RaftChatErrorReason.ModelFolder, e.Reason);
        Assert.Contains("/no/such/model", e.Message);
    }

    public static TheoryData<string, RaftChatErrorReason, string> BadRequests => new()
    {
        { "temperature", RaftChatErrorReason.InvalidOptions, "Temperature must be" },
        { "top_p", RaftChatErrorReason.InvalidOptions, "TopP must be" },
        { "max_tokens", RaftChatErrorReason.ContextLengthExceeded, "context length is 40960" },
        { "penalty", RaftChatErrorReason.InvalidOptions, "FrequencyPenalty is not supported" },
        { "model", RaftChatErrorReason.UnknownModel, "'gpt-4o'" },
        { "image", RaftChatErrorReason.UnsupportedContent, "DataContent" },
        { "role", RaftChatErrorReason.UnsupportedContent, "role 'tool'" },
    };

    [Theory]
    [MemberData(nameof(BadRequests))]
    public async Task Bad_requests_throw_typed_exceptions_with_the_reason(string what, RaftChatErrorReason reason, string message)
    {
        using var client = Client();
        var conversation = Conversation();
        var options = new ChatOptions { MaxOutputTokens = 4 };
        switch (what)
        {
            case "temperature": options.Temperature = -1; break;
            case "top_p": options.TopP = 0; break;
            case "max_tokens": options.MaxOutputTokens = 50_000; break;
            case "penalty": options.FrequencyPenalty = 0.5f; break;
            case "model": options.ModelId = "gpt-4o"; break;
            case "image": conversation.Add(new(ChatRole.User, [new DataContent(new byte[] { 1, 2, 3 }, "image/png")])); break;
            case "role": conversation.Add(new(ChatRole.Tool, "42")); break;
        }

        var e = await Assert.ThrowsAsync<RaftChatClientException>(() => client.GetResponseAsync(conversation, options));
        Assert.Equal(reason, e.Reason);
        Assert.Contains(message, e.Message);
        // The client keeps working after a refusal.
        Assert.Equal(Engine(tiny.ModelDir, null, 3).Text, (await client.GetResponseAsync(Conversation(), new ChatOptions { Temperature = 0, MaxOutputTokens = 3 })).Text);
    }
}

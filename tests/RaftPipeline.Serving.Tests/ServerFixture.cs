using RaftPipeline.Modeling.Adapters;
using RaftPipeline.Modeling.Chat;
using RaftPipeline.Modeling.Generation;
using RaftPipeline.Modeling.Loading;
using RaftPipeline.Modeling.Lora;
using RaftPipeline.Modeling.Presets;
using RaftPipeline.Text.Templates;
using TorchSharp;

namespace RaftPipeline.Serving.Tests;

/// <summary>
/// The tiny preset and an adapter for it (non-zero B, so it changes the answers), served by a real Kestrel on
/// 127.0.0.1 (a free port) as "tiny" and "tuned", with an API key; plus engines of the same folders to compare with.
/// </summary>
public sealed class ServerFixture : IAsyncLifetime
{
    public const string ApiKey = "test-key";
    public const string BaseName = "tiny";
    public const string AdapterName = "tuned";
    public const int ContextLength = 4096;

    public string Root { get; } = Directory.CreateTempSubdirectory("raft-serve-").FullName;
    public string ModelDir => Path.Combine(Root, "tiny");
    public string AdapterDir => Path.Combine(Root, "adapter");
    public ServedModels Models { get; private set; } = null!;
    public RaftServer Server { get; private set; } = null!;
    public StringWriter Log { get; } = new();
    public Uri ApiBase => new(Server.Address, "/v1");

    public ChatEngine BaseEngine => Models.Find(BaseName)!.Engine;
    public ChatEngine TunedEngine => Models.Find(AdapterName)!.Engine;

    public async Task InitializeAsync()
    {
        TinyPreset.Write(ModelDir, seed: 3);
        using (var model = PretrainedLoader.Load(ModelDir))
        {
            var lora = new LoraConfig { R = 4, Alpha = 64, Targets = LoraTargets.FromNames("q_proj", "v_proj", "down_proj"), Init = LoraInit.Random, Seed = 11 };
            var wrapped = LoraInjector.Apply(model, lora);
            AdapterStore.Save(model, AdapterConfig.From(lora, ModelDir, wrapped), AdapterDir);
        }
        var options = new ServeOptions
        {
            ModelDirectory = ModelDir,
            Adapters = new Dictionary<string, string> { [AdapterName] = AdapterDir },
            Port = 0,
            ApiKey = ApiKey,
            MaxModelLength = ContextLength,
        };
        Models = ServedModels.Load(options, torch.CPU);
        Server = await RaftServer.StartAsync(options, Models, Log);
    }

    /// <summary>What the engine itself answers greedily (on the caller's thread, no server, no queue).</summary>
    public string Greedy(ChatEngine engine, IReadOnlyList<ChatMessage> messages, int maxTokens, IReadOnlyList<string>? stops = null)
    {
        var ids = engine.RenderChat(ChatConversation.FromMessages(messages)).Ids;
        return engine.Generate(ids, engine.Options(new SamplingSettings { Greedy = true, MaxNewTokens = maxTokens, StopStrings = stops ?? [] })).Text;
    }

    public HttpClient Http(bool withKey = true)
    {
        var http = new HttpClient { BaseAddress = Server.Address, Timeout = TimeSpan.FromSeconds(60) };
        if (withKey) http.DefaultRequestHeaders.Authorization = new("Bearer", ApiKey);
        return http;
    }

    public async Task DisposeAsync()
    {
        await Server.StopAsync();
        await Server.DisposeAsync();
        Models.Dispose();
        Directory.Delete(Root, recursive: true);
    }
}

[CollectionDefinition(Name)]
public sealed class ServerCollection : ICollectionFixture<ServerFixture>
{
    public const string Name = "tiny server";
}

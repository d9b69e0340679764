using RaftPipeline.Modeling.Adapters;
using RaftPipeline.Modeling.Chat;
using RaftPipeline.Modeling.Loading;
using RaftPipeline.Modeling.Lora;
using RaftPipeline.Modeling.Presets;

namespace RaftPipeline.Extensions.AI.Tests;

/// <summary>
/// The tiny preset and an adapter for it (non-zero B, so it changes the answers), written once for the class, with a
/// client over each and reference engines loaded separately (loading is most of these tests' time).
/// </summary>
public sealed class TinyFolders : IDisposable
{
    public TinyFolders()
    {
        TinyPreset.Write(ModelDir, seed: 5);
        using var model = PretrainedLoader.Load(ModelDir);
        var lora = new LoraConfig { R = 4, Alpha = 64, Targets = LoraTargets.FromNames("q_proj", "v_proj", "down_proj"), Init = LoraInit.Random, Seed = 7 };
        var wrapped = LoraInjector.Apply(model, lora);
        AdapterStore.Save(model, AdapterConfig.From(lora, ModelDir, wrapped), AdapterDir);
        BaseClient = new RaftChatClient(new RaftChatClientOptions { ModelDirectory = ModelDir, Device = "cpu" });
        TunedClient = new RaftChatClient(new RaftChatClientOptions { ModelDirectory = ModelDir, AdapterDirectory = AdapterDir, Device = "cpu" });
        BaseEngine = ChatEngine.Load(ModelDir, null, TorchSharp.torch.CPU);
        TunedEngine = ChatEngine.Load(ModelDir, AdapterDir, TorchSharp.torch.CPU);
    }

    public RaftChatClient BaseClient { get; }
    public RaftChatClient TunedClient { get; }
    public ChatEngine BaseEngine { get; }
    public ChatEngine TunedEngine { get; }

    public string Root { get; } = Directory.CreateTempSubdirectory("raft-ichatclient-").FullName;
    public string ModelDir => Path.Combine(Root, "tiny");
    public string AdapterDir => Path.Combine(Root, "adapter");

    public void Dispose()
    {
        BaseClient.Dispose();
        TunedClient.Dispose();
        BaseEngine.Dispose();
        TunedEngine.Dispose();
        Directory.Delete(Root, recursive: true);
    }
}

/// <summary>One set of folders, clients and engines for every test class here.</summary>
[CollectionDefinition(Name)]
public sealed class TinyCollection : ICollectionFixture<TinyFolders>
{
    public const string Name = "tiny folders";
}

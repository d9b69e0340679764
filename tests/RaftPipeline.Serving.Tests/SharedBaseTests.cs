using RaftPipeline.Modeling.Chat;
using RaftPipeline.Modeling.Native;
using RaftPipeline.Text.Templates;
using TorchSharp;

namespace RaftPipeline.Serving.Tests;

/// <summary>An adapter engine runs over the base engine's weights (held once), and answers as an engine loaded on its own.</summary>
[Collection(ServerCollection.Name)]
public sealed class SharedBaseTests(ServerFixture server)
{
    [Fact]
    public void The_adapter_engine_views_every_base_weight_of_the_base_engine_and_shares_its_tokenizer()
    {
        var baseWeights = server.BaseEngine.Model.named_parameters().Select(p => TensorMemory.Address(p.parameter)).ToHashSet();
        var tunedWeights = server.TunedEngine.Model.named_parameters().Select(p => TensorMemory.Address(p.parameter)).ToHashSet();
        Assert.NotEmpty(baseWeights);
        Assert.Subset(tunedWeights, baseWeights);
        // The rest of the adapter engine's parameters are the adapter's own A and B.
        Assert.Equal(server.TunedEngine.Model.named_parameters().Count(p => p.name.Contains("lora_", StringComparison.Ordinal)),
            tunedWeights.Count - baseWeights.Count);
        Assert.Same(server.BaseEngine.Tokenizer, server.TunedEngine.Tokenizer);
    }

    [Fact]
    public void The_adapter_engine_answers_as_an_engine_that_loaded_the_base_and_adapter_itself()
    {
        using var alone = ChatEngine.Load(server.ModelDir, server.AdapterDir, torch.CPU);
        foreach (var question in new[] { "What is the capital?", "Say something rude." })
        {
            ChatMessage[] messages = [new("user", question)];
            Assert.Equal(server.Greedy(alone, messages, 8), server.Greedy(server.TunedEngine, messages, 8));
        }
        // And the adapter changes the answer: the engines are not both the base.
        Assert.NotEqual(server.Greedy(server.BaseEngine, [new ChatMessage("user", "Say something rude.")], 8),
            server.Greedy(alone, [new ChatMessage("user", "Say something rude.")], 8));
    }
}

using RaftPipeline.Modeling.Config;
using RaftPipeline.Modeling.Decoder;
using RaftPipeline.Modeling.Loading;
using RaftPipeline.Modeling.Lora;
using RaftPipeline.Modeling.Native;
using RaftPipeline.Modeling.Quantization;
using RaftPipeline.Modeling.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace RaftPipeline.Modeling.Tests.Decoder;

/// <summary>ModelFolderLoader.ShareWeights: a second model over the same storage (serve's adapter engines).</summary>
public class ShareWeightsTests
{
    public ShareWeightsTests() => TorchRuntime.EnsureInitialized();

    static readonly long[] Ids = [5, 77, 140, 2, 299, 31, 8];

    static Tensor Logits(CausalLM model)
    {
        using var noGrad = torch.no_grad();
        return model.forward(torch.tensor(Ids).unsqueeze(0));
    }

    static bool Same(Tensor a, Tensor b) => a.eq(b).all().item<bool>();

    static void AssertSameStorage(CausalLM source, CausalLM shared)
    {
        var mine = shared.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        Assert.Equal(source.named_parameters().Count(), mine.Count);
        foreach (var (name, p) in source.named_parameters())
            Assert.True(TensorMemory.Address(p) == TensorMemory.Address(mine[name]), $"{name} is not shared");
    }

    [Theory]
    [InlineData(DecoderFamily.Qwen3)]
    [InlineData(DecoderFamily.Phi3)]
    [InlineData(DecoderFamily.Gemma2)]
    public void A_shared_model_views_every_weight_of_its_source_and_computes_the_same_logits(DecoderFamily family)
    {
        using var scope = NewDisposeScope();
        using var source = TinyModels.Build(TinyModels.Config(family, tied: false));
        source.eval();
        using var shared = ModelFolderLoader.ShareWeights(source);
        AssertSameStorage(source, shared);
        Assert.All(shared.parameters(), p => Assert.False(p.requires_grad));
        Assert.True(Same(Logits(source), Logits(shared)));
    }

    [Fact]
    public void An_adapter_on_the_shared_model_leaves_the_source_untouched_and_the_storage_outlives_the_source()
    {
        using var scope = NewDisposeScope();
        var source = TinyModels.Build();
        source.eval();
        var before = Logits(source);
        var shared = ModelFolderLoader.ShareWeights(source);
        LoraInjector.Apply(shared, new LoraConfig { R = 4, Alpha = 8, Targets = LoraTargets.AttentionAndMlp(), Init = LoraInit.Random, Seed = 3 });
        shared.eval();
        var adapted = Logits(shared);
        Assert.False(before.allclose(adapted), "the random adapter should move the logits");
        Assert.True(Same(before, Logits(source)), "the source's logits changed");
        source.Dispose();
        Assert.True(Same(adapted, Logits(shared)), "the shared weights did not outlive their first owner");
        shared.Dispose();
    }

    [Fact]
    public void An_nf4_model_shares_its_packed_codes_and_statistics()
    {
        using var scope = NewDisposeScope();
        using var source = TinyModels.Build();
        Nf4ModelStore.QuantizeInPlace(source);
        source.eval();
        using var shared = ModelFolderLoader.ShareWeights(source);
        AssertSameStorage(source, shared);
        foreach (var path in source.LinearPaths())
        {
            var a = ((Nf4Linear)source.GetLinear(path)).Weight;
            var b = Assert.IsType<Nf4Linear>(shared.GetLinear(path)).Weight;
            Assert.True(TensorMemory.Address(a.Packed) == TensorMemory.Address(b.Packed), $"{path}: packed codes copied");
            Assert.True(TensorMemory.Address(a.Absmax) == TensorMemory.Address(b.Absmax), $"{path}: absmax copied");
        }
        Assert.True(Same(Logits(source), Logits(shared)));
    }

    [Fact]
    public void A_model_with_an_adapter_attached_is_refused()
    {
        using var source = TinyModels.Build();
        LoraInjector.Apply(source, new LoraConfig { R = 2, Alpha = 4, Targets = LoraTargets.AttentionAndMlp() });
        var e = Assert.Throws<InvalidOperationException>(() => ModelFolderLoader.ShareWeights(source).Dispose());
        Assert.Contains("only a base model's weights can be shared", e.Message);
    }
}

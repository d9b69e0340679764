using RaftPipeline.Modeling.Config;
using RaftPipeline.Modeling.Decoder;
using RaftPipeline.Modeling.Loading;
using RaftPipeline.Modeling.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace RaftPipeline.Modeling.Tests.Decoder;

/// <summary>Properties any correct causal decoder has, checked on random tiny models of each family.</summary>
public class DecoderInvarianceTests
{
    public static IEnumerable<object[]> Families() =>
    [
        [DecoderFamily.Qwen3, true],
        [DecoderFamily.Qwen2, false],
        [DecoderFamily.Llama, false],
    ];

    static void Close(Tensor expected, Tensor actual, double tol = 1e-5)
    {
        var diff = (expected - actual).abs().max().item<float>();
        Assert.True(diff <= tol, $"max |difference| {diff} > {tol}");
    }

    [Theory]
    [MemberData(nameof(Families))]
    public void Changing_later_tokens_never_changes_earlier_logits(DecoderFamily family, bool tied)
    {
        using var model = TinyModels.Build(TinyModels.Config(family, tied));
        using var scope = torch.NewDisposeScope();
        var a = torch.tensor(new long[] { 3, 14, 15, 92, 65, 35, 89, 79 }, [1, 8]);
        var b = torch.tensor(new long[] { 3, 14, 15, 92, 200, 201, 202, 203 }, [1, 8]);
        var la = model.Forward(a).Logits;
        var lb = model.Forward(b).Logits;
        Close(la.narrow(1, 0, 4), lb.narrow(1, 0, 4));
        Assert.False(torch.allclose(la.narrow(1, 4, 4), lb.narrow(1, 4, 4), 1e-3, 1e-3));
    }

    [Theory]
    [MemberData(nameof(Families))]
    public void Kv_cache_steps_equal_a_full_recompute(DecoderFamily family, bool tied)
    {
        using var model = TinyModels.Build(TinyModels.Config(family, tied));
        using var scope = torch.NewDisposeScope();
        var ids = torch.tensor(new long[] { 3, 14, 15, 92, 65, 35, 89, 79, 32, 38 }, [1, 10]);
        var full = model.Forward(ids).Logits;
        // Capacity 2 forces the buffers to grow twice on the way.
        using var cache = new KvCache(2, initialCapacity: 2);
        var prefill = model.Forward(ids.narrow(1, 0, 5), cache: cache).Logits;
        Close(full.narrow(1, 0, 5), prefill);
        var chunk = model.Forward(ids.narrow(1, 5, 2), cache: cache).Logits; // a multi-token step over a cache
        Close(full.narrow(1, 5, 2), chunk);
        for (int t = 7; t < 10; t++)
        {
            var step = model.Forward(ids.narrow(1, t, 1), cache: cache).Logits;
            Close(full.narrow(1, t, 1), step);
        }
        Assert.Equal(10, cache.Length);
    }

    [Theory]
    [MemberData(nameof(Families))]
    public void Left_padding_with_a_mask_leaves_each_sequence_as_it_is_alone(DecoderFamily family, bool tied)
    {
        using var model = TinyModels.Build(TinyModels.Config(family, tied));
        using var scope = torch.NewDisposeScope();
        long[] longSeq = [3, 14, 15, 92, 65, 35, 89];
        long[] shortSeq = [27, 18, 28];
        var alone = model.Forward(torch.tensor(shortSeq, [1, 3])).Logits;
        var longAlone = model.Forward(torch.tensor(longSeq, [1, 7])).Logits;
        var ids = torch.tensor(new long[] { 0, 0, 0, 0, 27, 18, 28 }.Concat(longSeq).ToArray(), [2, 7]);
        var mask = torch.tensor(new long[] { 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1 }, [2, 7]);
        var batch = model.Forward(ids, attentionMask: mask).Logits;
        Assert.False(batch.isnan().any().item<bool>(), "padded query rows must not produce NaN");
        Close(alone[0], batch[0].narrow(0, 4, 3));
        Close(longAlone[0], batch[1]);

        // And generation-style: the padded batch continued through a KV cache, one token at a time.
        using var cache = new KvCache(2);
        model.Forward(ids, attentionMask: mask, cache: cache);
        var next = torch.tensor(new long[] { 77, 77 }, [2, 1]);
        var grown = torch.cat([mask, torch.ones(2, 1, ScalarType.Int64)], 1);
        var step = model.Forward(next, attentionMask: grown, cache: cache).Logits;
        var aloneNext = model.Forward(torch.tensor(new long[] { 27, 18, 28, 77 }, [1, 4])).Logits;
        Close(aloneNext[0, 3], step[0, 0]);
    }

    [Fact]
    public void Saved_bf16_folder_loads_back_to_the_same_weights_and_logits()
    {
        using var dir = new TempDir();
        using var model = TinyModels.Build(TinyModels.Config(DecoderFamily.Qwen2, tied: false), dtype: ScalarType.BFloat16);
        var files = PretrainedSaver.Save(model, dir.Path, ScalarType.BFloat16, maxShardBytes: 16 * 1024);
        Assert.Contains(files, f => f.EndsWith("model.safetensors.index.json"));
        using var loaded = PretrainedLoader.Load(dir.Path, CPU, ScalarType.BFloat16);
        loaded.eval();
        foreach (var ((n1, p1), (n2, p2)) in model.named_parameters().Zip(loaded.named_parameters()))
        {
            Assert.Equal(n1, n2);
            Assert.True(p1.Equals(p2), n1);
        }
        using var scope = torch.NewDisposeScope();
        var ids = torch.tensor(new long[] { 1, 2, 3, 4 }, [1, 4]);
        Assert.True(model.Forward(ids).Logits.Equals(loaded.Forward(ids).Logits));
    }

    [Fact]
    public void Loading_names_missing_and_unexpected_weights()
    {
        using var dir = new TempDir();
        using var model = TinyModels.Build();
        PretrainedSaver.Save(model, dir.Path, ScalarType.Float32);
        // A config claiming a third layer: its weights are missing.
        var config = model.Config with { NumHiddenLayers = 3 };
        File.WriteAllText(Path.Combine(dir.Path, "config.json"), config.ToJson());
        var e = Assert.Throws<InvalidDataException>(() => PretrainedLoader.Load(dir.Path).Dispose());
        Assert.Contains("model.layers.2.", e.Message);
        // A config with one layer: layer 1's weights are unexpected.
        File.WriteAllText(Path.Combine(dir.Path, "config.json"), (model.Config with { NumHiddenLayers = 1 }).ToJson());
        var u = Assert.Throws<InvalidDataException>(() => PretrainedLoader.Load(dir.Path).Dispose());
        Assert.Contains("model.layers.1.", u.Message);
    }
}

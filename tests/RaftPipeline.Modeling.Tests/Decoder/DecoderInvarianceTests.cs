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

    /// <summary>
    /// A decode loop's prepared boolean [B, 1, 1, past+1] key mask with its own position ids gives exactly what the 0/1
    /// padding mask gives (from which the model derives both), step by step over a cache; dropping a row from the cache
    /// (<see cref="KvCache.KeepRows"/>) leaves the other row's next logits unchanged (up to rounding); a prepared mask without position
    /// ids is refused.
    /// </summary>
    [Fact]
    public void A_prepared_key_mask_decodes_as_the_padding_mask_and_dropping_a_row_keeps_the_other()
    {
        using var model = TinyModels.Build();
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        // Row 0: 3 pads then 5 tokens; row 1: 8 tokens.
        var ids = torch.tensor(new long[] { 0, 0, 0, 5, 17, 42, 99, 7, 3, 14, 15, 92, 65, 35, 89, 79 }, [2, 8]);
        var padding = torch.tensor(new long[] { 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1 }, [2, 8]);
        using var derived = new KvCache(2, 16);
        using var prepared = new KvCache(2, 16);
        var first = model.Forward(ids, padding, cache: derived, logitsToKeep: 1).Logits;
        Assert.Equal(first.data<float>().ToArray(), model.Forward(ids, padding, cache: prepared, logitsToKeep: 1).Logits.data<float>().ToArray());
        var positions = torch.tensor(new long[] { 5, 8 }, [2, 1]);
        var next = first.argmax(-1); // [2, 1]
        for (int step = 0; step < 3; step++)
        {
            padding = torch.cat([padding, torch.ones(2, 1, ScalarType.Int64)], 1);
            var fromPadding = model.Forward(next, padding, cache: derived, logitsToKeep: 1).Logits;
            var keyMask = padding.to(ScalarType.Bool).view(2, 1, 1, -1);
            var fromPrepared = model.Forward(next, keyMask, positions, prepared, logitsToKeep: 1).Logits;
            Assert.Equal(fromPadding.data<float>().ToArray(), fromPrepared.data<float>().ToArray());
            positions = positions + 1;
            next = fromPadding.argmax(-1);
        }
        var expected = model.Forward(next, padding = torch.cat([padding, torch.ones(2, 1, ScalarType.Int64)], 1), cache: derived, logitsToKeep: 1).Logits;
        prepared.KeepRows(torch.tensor(new long[] { 1 }));
        var kept = model.Forward(next.narrow(0, 1, 1), padding.narrow(0, 1, 1).to(ScalarType.Bool).view(1, 1, 1, -1), positions.narrow(0, 1, 1), prepared, logitsToKeep: 1).Logits;
        // Not bit for bit: a one-row GEMM may round differently from a two-row one (measured: 1.4e-6).
        Close(expected.narrow(0, 1, 1), kept);
        var e = Assert.Throws<ArgumentException>(() => model.Forward(next, torch.ones([2, 1, 1, 1], ScalarType.Bool)));
        Assert.Contains("position ids", e.Message);
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

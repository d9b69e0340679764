using RaftPipeline.Core.Spec.Stages;
using RaftPipeline.Modeling.Quantization;
using RaftPipeline.Modeling.Safetensors;
using RaftPipeline.Stages.Models;
using RaftPipeline.Stages.Quantize;
using RaftPipeline.Stages.Tests.TestSupport;
using TorchSharp;
using static TorchSharp.torch;

namespace RaftPipeline.Stages.Tests.Quantize;

public class QuantizeStageExecutorTests(TinyModelFolder tiny) : IClassFixture<TinyModelFolder>
{
    [Fact]
    public async Task Writes_an_nf4_folder_that_loads_back_with_the_dequantized_weights_and_the_source_tokenizer()
    {
        using var scope = NewDisposeScope();
        using var temp = new TempFolder();
        var context = StageContexts.Create(temp, "quantize", new QuantizeParameters { ComputeDtype = TensorDtype.Fp32 },
            new Dictionary<string, IReadOnlyList<string>> { ["model"] = [tiny.Path] });
        var outcome = await new QuantizeStageExecutor().RunAsync(context, CancellationToken.None);
        var output = context.OutputDirectory;

        Assert.True(ModelSlotLoader.IsQuantized(output));
        foreach (var name in new[] { "tokenizer.json", "tokenizer_config.json", "generation_config.json" })
            Assert.Equal(File.ReadAllBytes(Path.Combine(tiny.Path, name)), File.ReadAllBytes(Path.Combine(output, name)));
        Assert.Equal("raft-tiny-test", BaseModelName.Of(output));
        Assert.Equal(2 * 7, (long)outcome.Metrics["quantized_layers"]!);
        // Per layer of n weights: n/2 code bytes, n/64 one-byte absmax codes, one fp32 nested absmax (n/64 ≤ 256 here),
        // the 16- and 256-entry fp32 code books and the fp32 offset; the books weigh a lot on layers this small.
        long[] sizes = [64 * 64, 32 * 64, 32 * 64, 64 * 64, 192 * 64, 192 * 64, 64 * 192];
        long weights = 2 * sizes.Sum();
        long bytes = 2 * sizes.Sum(n => n / 2 + n / 64 + 4 + 16 * 4 + 256 * 4 + 4);
        Assert.Equal(weights, (long)outcome.Metrics["quantized_parameters"]!);
        Assert.Equal(bytes, (long)outcome.Metrics["quantized_bytes"]!);
        Assert.Equal(Math.Round((double)bytes / weights, 6), (double)outcome.Metrics["bytes_per_parameter"]!);

        using var loaded = ModelSlotLoader.Load(output, Core.Spec.DeviceKind.Cpu, ScalarType.Float32);
        using var source = SafetensorsCheckpoint.Open(tiny.Path);
        const string path = "model.layers.1.mlp.gate_proj";
        var original = source.Read(path + ".weight");
        using var expected = Nf4Quantizer.Quantize(original, doubleQuant: true);
        var dense = loaded.GetLinear(path).DenseWeight(ScalarType.Float32);
        Assert.True(dense.eq(Nf4Quantizer.Dequantize(expected, ScalarType.Float32)).all().item<bool>());
        var error = (dense - original.to(ScalarType.Float32)).abs().max().item<float>();
        Assert.InRange(error, 1e-6f, 0.05f); // quantized (not a copy), and close: weights are N(0, 0.02)
        Assert.True(loaded.model.embed_tokens.weight.eq(source.Read("model.embed_tokens.weight").to(ScalarType.Float32)).all().item<bool>());
    }

    [Fact]
    public async Task Fp4_and_other_block_sizes_are_refused_rather_than_quietly_replaced()
    {
        using var temp = new TempFolder();
        var inputs = new Dictionary<string, IReadOnlyList<string>> { ["model"] = [tiny.Path] };
        var fp4 = StageContexts.Create(temp, "quantize", new QuantizeParameters { QuantType = QuantType.Fp4 }, inputs);
        var e = await Assert.ThrowsAsync<NotSupportedException>(() => new QuantizeStageExecutor().RunAsync(fp4, CancellationToken.None));
        Assert.Equal("stage 'quantize': quant_type fp4 is not implemented; only nf4 is", e.Message);
        var blocks = StageContexts.Create(temp, "quantize", new QuantizeParameters { BlockSize = 128 }, inputs);
        e = await Assert.ThrowsAsync<NotSupportedException>(() => new QuantizeStageExecutor().RunAsync(blocks, CancellationToken.None));
        Assert.Contains("block_size 128 is not implemented", e.Message);
    }
}

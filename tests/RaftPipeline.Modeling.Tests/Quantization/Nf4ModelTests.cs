using RaftPipeline.Modeling.Lora;
using RaftPipeline.Modeling.Native;
using RaftPipeline.Modeling.Quantization;
using RaftPipeline.Modeling.Safetensors;
using RaftPipeline.Modeling.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace RaftPipeline.Modeling.Tests.Quantization;

public class Nf4ModelTests
{
    public Nf4ModelTests() => TorchRuntime.EnsureInitialized();

    static Tensor Ids => torch.tensor(new long[] { 4, 88, 123, 7, 250, 9 }).unsqueeze(0);

    [Fact]
    public void A_quantized_model_saved_and_loaded_again_computes_the_same_logits()
    {
        using var dir = new TempDir();
        using var scope = NewDisposeScope();
        using var model = TinyModels.Build(dtype: ScalarType.BFloat16);
        var dense = model.forward(Ids).to(ScalarType.Float32);
        Nf4ModelStore.QuantizeInPlace(model);
        Assert.All(model.LinearPaths(), p => Assert.IsType<Nf4Linear>(model.GetLinear(p)));
        var quantized = model.forward(Ids).to(ScalarType.Float32);
        // NF4 changes the weights by ~10% RMS: the logits move, but stay correlated with the dense ones.
        Assert.False(quantized.eq(dense).all().item<bool>());
        var corr = torch.corrcoef(torch.stack(new[] { dense.flatten(), quantized.flatten() }))[0, 1].item<float>();
        Assert.InRange(corr, 0.9f, 1f);

        Nf4ModelStore.Save(model, dir.Path);
        using (var file = SafetensorsCheckpoint.Open(dir.Path))
        {
            Assert.Equal("U8", file.Entry("model.layers.0.self_attn.q_proj.weight").DtypeName);
            Assert.True(file.Contains("model.layers.1.mlp.down_proj.weight.quant_state.bitsandbytes__nf4"));
            Assert.Equal("BF16", file.Entry("model.embed_tokens.weight").DtypeName);
            Assert.Equal("BF16", file.Entry("model.norm.weight").DtypeName);
        }
        Assert.Contains("\"bnb_4bit_quant_type\": \"nf4\"", File.ReadAllText(dir.File("config.json")));
        using var loaded = Nf4ModelStore.Load(dir.Path);
        Assert.True(quantized.eq(loaded.forward(Ids).to(ScalarType.Float32)).all().item<bool>());
    }

    [Fact]
    public void Quantizing_streamed_from_a_checkpoint_equals_quantizing_in_memory()
    {
        using var dir = new TempDir();
        using var scope = NewDisposeScope();
        using var model = TinyModels.Build(dtype: ScalarType.BFloat16);
        Loading.PretrainedSaver.Save(model, dir.Path, ScalarType.BFloat16);
        Nf4ModelStore.QuantizeInPlace(model);
        using var streamed = Nf4ModelStore.QuantizeFromCheckpoint(dir.Path);
        Assert.True(model.forward(Ids).eq(streamed.forward(Ids)).all().item<bool>());
    }

    [Fact]
    public void Prepared_for_kbit_training_only_the_adapter_trains_and_norms_are_fp32()
    {
        using var scope = NewDisposeScope();
        using var model = TinyModels.Build(dtype: ScalarType.BFloat16);
        Nf4ModelStore.QuantizeInPlace(model);
        var settings = KbitTraining.Prepare(model);
        Assert.Equal(new KbitTraining.Settings(true, false), settings);
        Assert.All(model.named_parameters(), p => Assert.Equal(ScalarType.Float32, p.parameter.dtype));
        Assert.All(model.named_parameters(), p => Assert.False(p.parameter.requires_grad, p.name));
        var q = (Nf4Linear)model.GetLinear("model.layers.0.self_attn.q_proj");
        Assert.Equal(ScalarType.Byte, q.Weight.Packed.dtype);

        LoraInjector.Apply(model, new LoraConfig { R = 2, Alpha = 4, Targets = LoraTargets.AttentionAndMlp(), Init = LoraInit.Random });
        model.train();
        var logits = model.forward(Ids);
        logits.pow(2).mean().backward();
        var trainable = model.named_parameters().Where(p => p.parameter.requires_grad).Select(p => p.name).ToList();
        Assert.Equal(2 * 7 * 2, trainable.Count);
        Assert.All(trainable, n => Assert.Matches(@"\.lora_[AB]\.weight$", n));
        Assert.All(model.named_parameters().Where(p => p.parameter.requires_grad), p => Assert.NotNull(p.parameter.grad));
        Assert.All(model.named_parameters().Where(p => !p.parameter.requires_grad), p => Assert.Null(p.parameter.grad));
    }

    [Fact]
    public void Quantizing_a_checkpoint_whose_weights_do_not_fit_its_config_names_the_file_and_the_tensor()
    {
        using var dir = new TempDir();
        using var scope = NewDisposeScope();
        using (var model = TinyModels.Build(dtype: ScalarType.BFloat16))
            Loading.PretrainedSaver.Save(model, dir.Path, ScalarType.BFloat16);
        // The config now promises wider MLPs than the weights hold.
        var configPath = Path.Combine(dir.Path, "config.json");
        File.WriteAllText(configPath, File.ReadAllText(configPath).Replace("\"intermediate_size\": 48", "\"intermediate_size\": 64"));

        var e = Assert.Throws<SafetensorsFormatException>(() => Nf4ModelStore.QuantizeFromCheckpoint(dir.Path).Dispose());
        Assert.Equal(Path.Combine(dir.Path, "model.safetensors"), e.File);
        Assert.Equal("model.layers.0.mlp.gate_proj.weight", e.Tensor);
        Assert.Equal("stored shape [48, 32] does not match the model's [64, 32] (from config.json)", e.Problem);
    }
}

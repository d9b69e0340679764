using RaftPipeline.Core.Spec;
using RaftPipeline.Modeling.Adapters;
using RaftPipeline.Modeling.Loading;
using RaftPipeline.Modeling.Lora;
using RaftPipeline.Modeling.Quantization;
using RaftPipeline.Stages.Models;
using RaftPipeline.Stages.Tests.TestSupport;
using TorchSharp;
using static TorchSharp.torch;

namespace RaftPipeline.Stages.Tests.Models;

public class ModelSlotLoaderTests(TinyModelFolder tiny) : IClassFixture<TinyModelFolder>
{
    static Tensor Ids() => torch.tensor(new long[] { 151644, 872, 198, 9707, 1879, 151645 }).reshape(1, -1);

    [Fact]
    public void A_plain_folder_loads_frozen_in_eval_mode_with_the_checkpoint_weights()
    {
        using var scope = NewDisposeScope();
        Assert.False(ModelSlotLoader.IsQuantized(tiny.Path));
        using var model = ModelSlotLoader.Load(tiny.Path, DeviceKind.Cpu, ScalarType.Float32);
        using var reference = PretrainedLoader.Load(tiny.Path);
        Assert.False(model.training);
        Assert.All(model.named_parameters(), p => Assert.False(p.parameter.requires_grad, p.name));
        Assert.True(model.forward(Ids()).eq(reference.forward(Ids())).all().item<bool>());
    }

    [Fact]
    public void A_quantized_folder_is_detected_and_gives_the_nf4_models_logits()
    {
        using var scope = NewDisposeScope();
        using var temp = new TempFolder();
        string nf4 = temp.Combine("nf4");
        using (var quantized = Nf4ModelStore.QuantizeFromCheckpoint(tiny.Path, ScalarType.Float32))
            Nf4ModelStore.Save(quantized, nf4, ScalarType.BFloat16);

        Assert.True(ModelSlotLoader.IsQuantized(nf4));
        using var model = ModelSlotLoader.Load(nf4, DeviceKind.Cpu, ScalarType.Float32);
        using var reference = Nf4ModelStore.Load(nf4, ScalarType.Float32);
        Assert.IsType<Nf4Linear>(model.GetLinear("model.layers.1.mlp.down_proj"));
        Assert.True(model.forward(Ids()).eq(reference.forward(Ids())).all().item<bool>());
    }

    [Fact]
    public void Training_a_quantized_base_holds_its_16_bit_parameters_in_the_kbit_dtype_and_a_trainable_adapter_is_all_that_trains()
    {
        using var scope = NewDisposeScope();
        using var temp = new TempFolder();
        string nf4 = temp.Combine("nf4");
        using (var quantized = Nf4ModelStore.QuantizeFromCheckpoint(tiny.Path))
            Nf4ModelStore.Save(quantized, nf4);
        string adapter = SaveRandomAdapter(temp.Combine("adapter"));

        // fp32 compute: peft's prepare_model_for_kbit_training upcast; 16-bit compute (CUDA's default): kept 16-bit,
        // since without autocast fp32 norms and embeddings would make every activation fp32.
        using (var fp32 = ModelSlotLoader.Load(nf4, DeviceKind.Cpu, ScalarType.Float32, ModelUse.Training))
            Assert.All(fp32.named_parameters(), p => Assert.Equal(ScalarType.Float32, p.parameter.dtype));
        using var model = ModelSlotLoader.Load(nf4, DeviceKind.Cpu, ScalarType.BFloat16, ModelUse.Training);
        Assert.All(model.named_parameters(), p => Assert.Equal(ScalarType.BFloat16, p.parameter.dtype));
        var config = ModelSlotLoader.AttachAdapter(model, adapter, trainable: true);
        Assert.Equal(2, config.Lora.R);
        Assert.True(model.training);
        var trainable = model.named_parameters().Where(p => p.parameter.requires_grad).Select(p => p.name).ToList();
        Assert.Equal(2 * 2 * 2, trainable.Count); // 2 layers × (q_proj, v_proj) × (A, B)
        Assert.All(trainable, n => Assert.Matches(@"\.(q|v)_proj\.lora_[AB]\.weight$", n));
    }

    [Fact]
    public void An_attached_adapter_for_inference_is_frozen_and_reproduces_the_adapted_models_logits()
    {
        using var scope = NewDisposeScope();
        using var temp = new TempFolder();
        string adapterDir = temp.Combine("adapter");
        Tensor expected;
        using (var adapted = PretrainedLoader.Load(tiny.Path))
        {
            LoraInjector.Apply(adapted, RandomConfig);
            AdapterStore.Save(adapted, AdapterConfig.From(RandomConfig, "tiny"), adapterDir);
            adapted.eval();
            expected = adapted.forward(Ids());
        }

        using var model = ModelSlotLoader.Load(tiny.Path, DeviceKind.Cpu, ScalarType.Float32);
        var before = model.forward(Ids());
        ModelSlotLoader.AttachAdapter(model, adapterDir, trainable: false);
        Assert.False(model.training);
        Assert.All(model.named_parameters(), p => Assert.False(p.parameter.requires_grad, p.name));
        var after = model.forward(Ids());
        Assert.False(after.allclose(before), "a random B makes the adapter change the logits");
        Assert.True(after.allclose(expected, rtol: 1e-5, atol: 1e-6));
    }

    [Fact]
    public void A_folder_with_another_quantization_is_refused_naming_the_file()
    {
        using var temp = new TempFolder();
        Directory.CreateDirectory(temp.Combine("gptq"));
        File.WriteAllText(temp.Combine("gptq/config.json"), """{"model_type": "qwen3", "quantization_config": {"quant_method": "gptq", "bits": 4}}""");
        var e = Assert.Throws<InvalidDataException>(() => ModelSlotLoader.IsQuantized(temp.Combine("gptq")));
        Assert.StartsWith(Path.Combine(temp.Combine("gptq"), "config.json") + ": \"quantization_config\" is {\"quant_method\":\"gptq\"", e.Message);
    }

    static readonly LoraConfig RandomConfig = new()
    {
        R = 2, Alpha = 4, Targets = LoraTargets.FromNames("q_proj", "v_proj"), Init = LoraInit.Random, Seed = 3,
    };

    string SaveRandomAdapter(string dir)
    {
        using var model = PretrainedLoader.Load(tiny.Path);
        LoraInjector.Apply(model, RandomConfig);
        AdapterStore.Save(model, AdapterConfig.From(RandomConfig, "tiny"), dir);
        return dir;
    }
}

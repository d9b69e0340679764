using RaftPipeline.Modeling.Adapters;
using RaftPipeline.Modeling.Loading;
using RaftPipeline.Modeling.Lora;
using RaftPipeline.Modeling.Native;
using RaftPipeline.Modeling.Safetensors;
using RaftPipeline.Training.Loss;
using RaftPipeline.Training.Model;
using RaftPipeline.Training.Optimizers;
using TorchSharp;
using static TorchSharp.torch;

namespace RaftPipeline.Training.Tests.Families;

/// <summary>
/// Training each family against transformers + peft (Fixtures/families in the Modeling tests; generate.py there): from
/// the adapter peft wrote, our loss through the model's output head (Gemma 2's final soft-cap included) and our LoRA
/// gradients equal peft's before the first step (loss 1e-5; gradients 1e-4 of the largest entry, fp32 noise through Gemma's larger activations), and three AdamW
/// steps (lr 1e-2) give transformers' losses (1e-4) and peft's trained adapter (each tensor's update within 1% of its norm: Adam divides by √v, so an entry whose gradient is fp32 noise, as q/k norms leave some, moves by up to lr either way).
/// </summary>
public class FamilyTrainingTests
{
    public FamilyTrainingTests()
    {
        TorchRuntime.EnsureInitialized();
        torch.set_num_threads(1);
    }

    static string Dir(string name)
    {
        var dir = Path.Combine(Support.RepoPaths.Root, "tests", "RaftPipeline.Modeling.Tests", "Fixtures", "families", name);
        if (!File.Exists(Path.Combine(dir, "expected.safetensors")))
            Assert.Fail($"family fixture missing in {dir}: run tests/RaftPipeline.Modeling.Tests/Fixtures/families/generate.py on the GPU machine");
        return dir;
    }

    [Theory]
    [InlineData("gemma2")]
    [InlineData("phi3")]
    [InlineData("phi3_longrope")]
    [InlineData("gemma3_text")]
    [InlineData("mistral")]
    [InlineData("llama3")]
    [InlineData("qwen3_moe")]
    public void Loss_gradients_and_three_adamw_steps_match_transformers_and_peft(string name)
    {
        var dir = Dir(name);
        using var expected = SafetensorsFile.Open(Path.Combine(dir, "expected.safetensors"));
        using var trained = SafetensorsFile.Open(Path.Combine(dir, "trained", AdapterStore.WeightsFileName));
        using var model = PretrainedLoader.Load(Path.Combine(dir, "model"), CPU, ScalarType.Float32);
        foreach (var p in model.parameters()) p.requires_grad_(false);
        AdapterStore.Load(model, Path.Combine(dir, "adapter"));
        // peft's parameter names keep the adapter name: "….lora_A.default.weight" (expert tensors included).
        var trainable = LoraInjector.AdapterTensors(model)
            .Select(a => (Name: a.Key.Replace(".lora_A.weight", ".lora_A.default.weight").Replace(".lora_B.weight", ".lora_B.default.weight"),
                          Parameter: (Tensor)a.Tensor.requires_grad_(true)))
            .ToList();
        Assert.NotEmpty(trainable);
        model.train();
        using var training = new DecoderTrainingModel(model, gradientCheckpointing: false, loraComputeCopies: false);
        var ids = expected.Read("train/input_ids");
        var labels = expected.Read("train/labels");
        long count = CausalLmLoss.SupervisedCount(labels);
        var optimizer = new AdamW(trainable, new AdamWOptions(0.9, 0.999, 1e-8, 0.0));
        var wantLosses = expected.Read("train/losses").data<float>().ToArray();
        for (int step = 0; step < wantLosses.Length; step++)
        {
            using var scope = NewDisposeScope();
            foreach (var (_, p) in trainable) p.grad?.zero_();
            var hidden = training.HiddenStates(ids, null);
            var loss = CausalLmLoss.SupervisedSum(hidden, training.Head, labels) / count;
            loss.backward();
            double got = loss.item<float>();
            Assert.True(Math.Abs(got - wantLosses[step]) <= 1e-4, $"{name} step {step}: loss {got} vs transformers {wantLosses[step]}");
            if (step == 0)
            {
                Assert.True(Math.Abs(got - expected.Read("train/loss0").item<float>()) <= 1e-5, $"{name}: first loss {got}");
                foreach (var (key, p) in trainable)
                {
                    var want = expected.Read($"train/grad/{key}");
                    var worst = (p.grad! - want).abs().max().item<float>();
                    var scale = want.abs().max().item<float>();
                    Assert.True(worst <= 1e-4 * Math.Max(1, scale), $"{name}: gradient of {key} differs by {worst} (largest {scale})");
                }
            }
            optimizer.Step(1e-2);
        }
        using var initial = SafetensorsFile.Open(Path.Combine(dir, "adapter", AdapterStore.WeightsFileName));
        foreach (var (key, p) in trainable)
        {
            var savedKey = key.Replace(".default.", ".");
            var start = initial.Read(savedKey);
            var theirs = trained.Read(savedKey) - start;
            var ours = p.detach() - start;
            double miss = (ours - theirs).norm().item<float>(), moved = theirs.norm().item<float>();
            Assert.True(miss <= 1e-2 * moved, $"{name}: {savedKey} moved {moved}, ours misses peft's update by {miss}");
        }
    }

    [Fact]
    public void Qwen3_moe_recomputed_layers_give_the_same_loss_and_expert_gradients()
    {
        var dir = Dir("qwen3_moe");
        using var expected = SafetensorsFile.Open(Path.Combine(dir, "expected.safetensors"));
        var ids = expected.Read("train/input_ids");
        var labels = expected.Read("train/labels");
        long count = CausalLmLoss.SupervisedCount(labels);
        var runs = new List<(double Loss, Dictionary<string, Tensor> Grads)>();
        foreach (var checkpointing in new[] { false, true })
        {
            using var model = PretrainedLoader.Load(Path.Combine(dir, "model"), CPU, ScalarType.Float32);
            foreach (var p in model.parameters()) p.requires_grad_(false);
            ModelFolderLoader.AttachAdapter(model, Path.Combine(dir, "adapter"), trainable: true);
            using var training = new DecoderTrainingModel(model, gradientCheckpointing: checkpointing, loraComputeCopies: false);
            var loss = CausalLmLoss.SupervisedSum(training.HiddenStates(ids, null), training.Head, labels) / count;
            loss.backward();
            runs.Add((loss.item<float>(), LoraInjector.AdapterTensors(model).ToDictionary(t => t.Key, t => t.Tensor.grad!.detach().clone())));
        }
        Assert.Equal(runs[0].Loss, runs[1].Loss, 6);
        Assert.Contains(runs[1].Grads.Keys, k => k.Contains(".experts.", StringComparison.Ordinal));
        foreach (var (key, grad) in runs[0].Grads)
            Assert.True(grad.allclose(runs[1].Grads[key], rtol: 1e-5, atol: 1e-7), $"{key}: the recomputed layer's gradient differs");
    }
}

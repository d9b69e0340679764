using RaftPipeline.Modeling.Decoder;
using RaftPipeline.Modeling.Lora;
using RaftPipeline.Training.Loop;
using RaftPipeline.Training.Model;
using RaftPipeline.Training.Tests.Support;
using static TorchSharp.torch;

namespace RaftPipeline.Training.Tests.Model;

/// <summary>
/// Training through LoRA compute copies (grouped slots, copies refreshed before forward, gradients moved back after
/// backward) must train exactly the masters the per-slot path trains: same losses, same adapter weights. Here in fp32
/// on the CPU with the plain-op fallback; the CUDA kernels are checked against it in tests/gpu.
/// </summary>
public class LoraComputeCopiesTests
{
    static CausalLM LoraModel(string[] targets, double alpha = 12, bool trainNorms = false)
    {
        var model = TinyTraining.Model();
        foreach (var p in model.parameters()) p.requires_grad = false;
        // Random B as well as A, so both factors get gradients from the first step; alpha / r = 3 is no power of two.
        LoraInjector.Apply(model, new LoraConfig
        {
            R = 4, Alpha = alpha, Targets = LoraTargets.FromNames(targets), Seed = 5, Init = LoraInit.Random,
        });
        if (trainNorms)
            foreach (var (name, p) in model.named_parameters())
                if (name.EndsWith("input_layernorm.weight", StringComparison.Ordinal)) p.requires_grad = true;
        return model;
    }

    static TrainerOptions Options => new()
    {
        BatchSize = 2, GradientAccumulationSteps = 2, Epochs = 2, LearningRate = 3e-2, LoggingSteps = 100, Seed = 7,
    };

    static readonly string[] AllSeven = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"];

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(true, true)]
    public void Trains_the_same_masters_as_the_per_slot_path(bool checkpointing, bool partial)
    {
        string[] targets = partial ? ["q_proj", "v_proj", "down_proj"] : AllSeven;
        var rows = TinyTraining.Rows(10);
        var plainModel = LoraModel(targets, trainNorms: partial);
        var copiesModel = LoraModel(targets, trainNorms: partial);
        var plain = new DecoderTrainingModel(plainModel, checkpointing, loraComputeCopies: false);
        var copies = new DecoderTrainingModel(copiesModel, checkpointing, loraComputeCopies: true);
        Assert.False(plain.UsesLoraComputeCopies);
        Assert.True(copies.UsesLoraComputeCopies);

        var a = new Trainer(plain, TinyTraining.Collator(), Options).Train(rows);
        var b = new Trainer(copies, TinyTraining.Collator(), Options).Train(rows);

        Assert.Equal(a.StepLosses.Count, b.StepLosses.Count);
        for (int i = 0; i < a.StepLosses.Count; i++) Assert.Equal(a.StepLosses[i], b.StepLosses[i], 4); // fp32 rounding, amplified by Adam at lr 3e-2
        int half = a.StepLosses.Count / 2; // epoch 2 sees epoch 1's rows again
        double first = a.StepLosses.Take(half).Average(), second = a.StepLosses.Skip(half).Average();
        Assert.True(second < first - 0.05, $"the run should learn: epoch means {first} → {second}");
        var trainedA = plainModel.named_parameters().Where(p => p.parameter.requires_grad).ToList();
        var trainedB = copiesModel.named_parameters().Where(p => p.parameter.requires_grad).ToList();
        Assert.Equal(trainedA.Select(p => p.name), trainedB.Select(p => p.name));
        Assert.Contains(trainedA, p => p.name.EndsWith("lora_B.weight", StringComparison.Ordinal));
        if (partial) Assert.Contains(trainedA, p => p.name.EndsWith("input_layernorm.weight", StringComparison.Ordinal));
        for (int i = 0; i < trainedA.Count; i++)
            Assert.True(trainedA[i].parameter.allclose(trainedB[i].parameter, rtol: 1e-3, atol: 2e-5),
                $"{trainedA[i].name} differs by {(trainedA[i].parameter - trainedB[i].parameter).abs().max().item<float>()}");
        // Trained in both: the adapters moved away from their initial values.
        Assert.False(LoraModel(targets).named_parameters().First(p => p.name.EndsWith("lora_B.weight")).parameter
            .allclose(trainedB.First(p => p.name.EndsWith("lora_B.weight")).parameter));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Gradients_reach_the_masters_as_the_per_slot_path_puts_them(bool accumulate)
    {
        // Adam hides a gradient's scale, so the gradients themselves are compared: one or two micro-batches.
        var rows = TinyTraining.Rows(4);
        var collator = TinyTraining.Collator();
        var models = new[] { LoraModel(AllSeven), LoraModel(AllSeven) };
        var grads = new List<Tensor>[2];
        for (int m = 0; m < 2; m++)
        {
            var training = new DecoderTrainingModel(models[m], gradientCheckpointing: m == 1, loraComputeCopies: m == 1);
            training.SetTraining(true);
            foreach (var chunk in rows.Chunk(2).Take(accumulate ? 2 : 1))
            {
                var batch = collator.Collate(chunk);
                var sum = RaftPipeline.Training.Loss.CausalLmLoss.SupervisedSum(training.HiddenStates(batch.InputIds, batch.MaskIfPadded), training.OutputWeight, batch);
                sum.backward();
                training.AfterBackward();
            }
            grads[m] = models[m].named_parameters().Where(p => p.name.Contains("lora_")).Select(p => p.parameter.grad!).ToList();
        }
        Assert.Equal(28, grads[1].Count);
        for (int i = 0; i < grads[0].Count; i++)
        {
            Assert.NotNull(grads[1][i]);
            double scale = grads[0][i].abs().max().item<float>();
            Assert.True(grads[0][i].allclose(grads[1][i], rtol: 1e-4, atol: 1e-5 * scale), $"gradient {i} differs: {grads[0][i].abs().max().item<float>()} vs {grads[1][i].abs().max().item<float>()}, max diff {(grads[0][i] - grads[1][i]).abs().max().item<float>()}");
            Assert.True(grads[0][i].abs().max().item<float>() > 1e-4, $"gradient {i} is zero");
        }
    }

    [Fact]
    public void Copies_are_used_only_while_training()
    {
        var model = LoraModel(AllSeven);
        var training = new DecoderTrainingModel(model, false, loraComputeCopies: true);
        var layer = (DecoderLayer)model.model.layers[0];
        training.SetTraining(true);
        Assert.NotNull(layer.self_attn.InputLora);
        Assert.Equal(3, layer.self_attn.InputLora!.Members.Count);
        Assert.NotNull(layer.DenseMlp!.OutputLora);
        training.SetTraining(false);
        // Generation after training reads the masters through the slots, so it can never see stale copies.
        Assert.Null(layer.self_attn.InputLora);
        Assert.Null(layer.DenseMlp!.InputLora);
    }

    [Fact]
    public void A_group_forward_equals_its_members_own_forward()
    {
        var model = LoraModel(AllSeven);
        var attention = ((DecoderLayer)model.model.layers[1]).self_attn;
        var members = attention.InputSlotNames.Select(n => (LoraLinear)attention.GetSlot(n)).ToList();
        using var group = new LoraProjectionGroup(members, ScalarType.Float32);
        using (no_grad())
            foreach (var (master, copy, scale) in group.Pairs()) copy!.copy_(master * scale);
        var x = randn([2, 3, 32], generator: new Generator(1));
        var grouped = group.Forward(x);
        for (int i = 0; i < members.Count; i++)
            Assert.True(grouped[i].allclose(members[i].forward(x), rtol: 1e-5, atol: 1e-6), $"{members[i].ModulePath} differs");
    }

    [Fact]
    public void A_group_gathers_separate_weights_once_and_then_runs_them_in_place()
    {
        var model = LoraModel(AllSeven);
        var attention = ((DecoderLayer)model.model.layers[0]).self_attn;
        var members = attention.InputSlotNames.Select(n => (LoraLinear)attention.GetSlot(n)).ToList();
        var bases = members.Select(m => (RaftPipeline.Modeling.Layers.Linear)m.BaseLayer).ToList();
        List<long> Addresses() => bases.Select(b => RaftPipeline.Modeling.Native.TensorMemory.Address(b.weight).ToInt64()).ToList();
        var x = randn([2, 3, 32], generator: new Generator(1));
        var expected = members.Select(m => m.forward(x)).ToList();
        var separate = Addresses(); // a CPU model: each projection its own allocation

        using (var group = new LoraProjectionGroup(members, ScalarType.Float32))
        {
            Assert.True(group.Stacked);
            Assert.NotEqual(separate[0], Addresses()[0]); // gathered into one tensor the weights are now views of
            using (no_grad())
                foreach (var (master, copy, scale) in group.Pairs()) copy!.copy_(master * scale);
            var grouped = group.Forward(x);
            for (int i = 0; i < members.Count; i++)
                Assert.True(grouped[i].allclose(expected[i], rtol: 1e-5, atol: 1e-6), $"{members[i].ModulePath} differs");
        }
        var together = Addresses();
        // A group over weights already side by side (as a CUDA model is built) runs them where they are: no copy.
        using var again = new LoraProjectionGroup(members, ScalarType.Float32);
        Assert.True(again.Stacked);
        Assert.Equal(together, Addresses());
        using (no_grad())
            foreach (var (master, copy, scale) in again.Pairs()) copy!.copy_(master * scale);
        var regrouped = again.Forward(x);
        for (int i = 0; i < members.Count; i++)
            Assert.True(regrouped[i].allclose(expected[i], rtol: 1e-5, atol: 1e-6), $"{members[i].ModulePath} differs");
    }
}

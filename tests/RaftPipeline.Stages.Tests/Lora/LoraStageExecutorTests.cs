using System.Text.Json.Nodes;
using RaftPipeline.Core.Spec.Stages;
using RaftPipeline.Modeling.Safetensors;
using RaftPipeline.Stages.Lora;
using RaftPipeline.Stages.Tests.TestSupport;
using TorchSharp;
using static TorchSharp.torch;

namespace RaftPipeline.Stages.Tests.Lora;

public class LoraStageExecutorTests(TinyModelFolder tiny) : IClassFixture<TinyModelFolder>
{
    static async Task<(Core.Engine.StageContext Context, Core.Engine.StageOutcome Outcome)> Run(TempFolder temp, LoraParameters parameters, string model, long seed = 1234)
    {
        var context = StageContexts.Create(temp, "lora", parameters, new Dictionary<string, IReadOnlyList<string>> { ["model"] = [model] }, seed);
        return (context, await new LoraStageExecutor().RunAsync(context, CancellationToken.None));
    }

    [Fact]
    public async Task Writes_a_peft_adapter_config_and_zero_B_kaiming_A_weights_for_the_models_shape()
    {
        using var scope = NewDisposeScope();
        using var temp = new TempFolder();
        var (context, outcome) = await Run(temp, new LoraParameters { R = 4, LoraAlpha = 8, LoraDropout = 0.05, UseRslora = true, TargetModules = ["q_proj", "down_proj"] }, tiny.Path);

        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(context.OutputDirectory, "adapter_config.json")))!;
        Assert.Equal("LORA", (string)config["peft_type"]!);
        Assert.Equal("CAUSAL_LM", (string)config["task_type"]!);
        Assert.Equal(4, (int)config["r"]!);
        Assert.Equal(8, (int)config["lora_alpha"]!);
        Assert.Equal(0.05, (double)config["lora_dropout"]!);
        Assert.True((bool)config["use_rslora"]!);
        Assert.True((bool)config["init_lora_weights"]!);
        Assert.Equal("none", (string)config["bias"]!);
        Assert.Equal("""["q_proj","down_proj"]""", config["target_modules"]!.ToJsonString());
        Assert.Equal("raft-tiny-test", (string)config["base_model_name_or_path"]!);

        using var weights = SafetensorsFile.Open(Path.Combine(context.OutputDirectory, "adapter_model.safetensors"));
        Assert.Equal(2 * 2 * 2, weights.Entries.Count);
        var a = weights.Read("base_model.model.model.layers.0.mlp.down_proj.lora_A.weight");
        var b = weights.Read("base_model.model.model.layers.0.mlp.down_proj.lora_B.weight");
        Assert.Equal(new long[] { 4, 192 }, a.shape);
        Assert.Equal(new long[] { 64, 4 }, b.shape);
        Assert.Equal(ScalarType.Float32, a.dtype);
        Assert.True(b.eq(0).all().item<bool>());
        double bound = 1 / Math.Sqrt(192);
        Assert.True(a.abs().max().item<float>() <= bound && a.std().item<float>() > bound / 4, "A is kaiming-uniform(a=√5): U(-1/√fan_in, 1/√fan_in)");

        // q_proj 64→64 and down_proj 192→64 in each of 2 layers: r·(in + out) each.
        long trainable = 2 * (4 * (64 + 64) + 4 * (192 + 64));
        Assert.Equal(trainable, (long)outcome.Metrics["trainable_parameters"]!);
        var line = File.ReadAllText(Path.Combine(context.ReportDirectory, LoraStageExecutor.TrainableParametersFile));
        Assert.StartsWith($"trainable params: {trainable:N0} || all params: ", line);
        Assert.Equal(4.0 * 2 / 2, (double)outcome.Metrics["scaling"]!, 12); // rslora: alpha / sqrt(r)
    }

    [Fact]
    public async Task The_same_seed_gives_the_same_adapter_and_another_seed_another()
    {
        using var temp1 = new TempFolder();
        using var temp2 = new TempFolder();
        using var temp3 = new TempFolder();
        var p = new LoraParameters { TargetModules = ["all-linear"] };
        var first = (await Run(temp1, p, tiny.Path, seed: 1)).Context.OutputDirectory;
        var again = (await Run(temp2, p, tiny.Path, seed: 1)).Context.OutputDirectory;
        var other = (await Run(temp3, p, tiny.Path, seed: 2)).Context.OutputDirectory;
        byte[] Bytes(string dir) => File.ReadAllBytes(Path.Combine(dir, "adapter_model.safetensors"));
        Assert.Equal(Bytes(first), Bytes(again));
        Assert.NotEqual(Bytes(first), Bytes(other));
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(first, "adapter_config.json")))!;
        Assert.Equal("""["down_proj","gate_proj","k_proj","o_proj","q_proj","up_proj","v_proj"]""", config["target_modules"]!.ToJsonString());
    }

    [Fact]
    public async Task Pissa_init_is_refused_rather_than_quietly_replaced()
    {
        using var temp = new TempFolder();
        var e = await Assert.ThrowsAsync<NotSupportedException>(() => Run(temp, new LoraParameters { Init = LoraInit.Pissa }, tiny.Path));
        Assert.Equal("stage 'lora': init pissa is not implemented; use kaiming or gaussian", e.Message);
    }

    [Fact]
    public async Task Target_parameters_adapt_qwen3_moe_experts_under_pefts_names()
    {
        using var scope = NewDisposeScope();
        using var temp = new TempFolder();
        var moe = System.IO.Path.Combine(RepoRoot.Path, "tests", "RaftPipeline.Modeling.Tests", "Fixtures", "families", "qwen3_moe", "model");
        var (context, outcome) = await Run(temp, new LoraParameters
        {
            R = 4, TargetModules = ["q_proj"], TargetParameters = ["mlp.experts.gate_up_proj", "mlp.experts.down_proj"],
        }, moe);
        var config = JsonNode.Parse(File.ReadAllText(System.IO.Path.Combine(context.OutputDirectory, "adapter_config.json")))!;
        Assert.Equal("""["mlp.experts.gate_up_proj","mlp.experts.down_proj"]""", config["target_parameters"]!.ToJsonString());
        using var weights = SafetensorsFile.Open(System.IO.Path.Combine(context.OutputDirectory, "adapter_model.safetensors"));
        // 4 experts, hidden 32, moe_intermediate 16: gate|up nested inside (base_layer), down outside, as peft saves them.
        Assert.Equal(new long[] { 16, 32 }, weights.Entry("base_model.model.model.layers.1.mlp.experts.base_layer.lora_A.weight").Shape);
        Assert.Equal(new long[] { 32, 16 }, weights.Entry("base_model.model.model.layers.1.mlp.experts.base_layer.lora_B.weight").Shape);
        Assert.Equal(new long[] { 16, 16 }, weights.Entry("base_model.model.model.layers.1.mlp.experts.lora_A.weight").Shape);
        Assert.True(weights.Read("base_model.model.model.layers.1.mlp.experts.lora_B.weight").eq(0).all().item<bool>());
        Assert.Equal(2 * 2 + 2 * 4, weights.Entries.Count);
        // per layer: q_proj r·(32 + 32), gate_up r·E·32 + 32·r·E, down r·E·16 + 32·r·E
        long trainable = 2 * (4 * (32 + 32) + 16 * 32 + 32 * 16 + 16 * 16 + 32 * 16);
        Assert.Equal(trainable, (long)outcome.Metrics["trainable_parameters"]!);
    }
}

using RaftPipeline.Core.Spec.Stages;
using RaftPipeline.Modeling.Presets;
using RaftPipeline.Stages.Models;
using RaftPipeline.Stages.Preset;
using RaftPipeline.Stages.Tests.TestSupport;

namespace RaftPipeline.Stages.Tests.Preset;

public class ModelPresetStageExecutorTests
{
    [Fact]
    public async Task Writes_the_tiny_preset_seeded_by_the_pipeline_seed_when_no_seed_is_given()
    {
        using var temp = new TempFolder();
        var context = StageContexts.Create(temp, "model", new ModelParameters(), new Dictionary<string, IReadOnlyList<string>>(), seed: 99);
        var outcome = await new ModelPresetStageExecutor().RunAsync(context, CancellationToken.None);

        string reference = temp.Combine("reference");
        TinyPreset.Write(reference, seed: 99);
        Assert.Equal(File.ReadAllBytes(Path.Combine(reference, "model.safetensors")), File.ReadAllBytes(Path.Combine(context.OutputDirectory, "model.safetensors")));
        foreach (var name in new[] { "tokenizer.json", "tokenizer_config.json", "generation_config.json" })
            Assert.True(File.Exists(Path.Combine(context.OutputDirectory, name)), name);
        Assert.Equal("raft-tiny", BaseModelName.Of(context.OutputDirectory));
        Assert.Equal("tiny", (string)outcome.Metrics["preset"]!);
        Assert.Equal(99ul, (ulong)outcome.Metrics["seed"]!);

        using var model = ModelSlotLoader.Load(context.OutputDirectory, Core.Spec.DeviceKind.Cpu, TorchSharp.torch.ScalarType.Float32);
        Assert.Equal((long)outcome.Metrics["parameters"]!, model.parameters().Sum(p => p.numel()));
    }

    [Fact]
    public async Task An_explicit_seed_wins_over_the_pipeline_seed()
    {
        using var temp = new TempFolder();
        var context = StageContexts.Create(temp, "model", new ModelParameters { Seed = 5 }, new Dictionary<string, IReadOnlyList<string>>(), seed: 99);
        await new ModelPresetStageExecutor().RunAsync(context, CancellationToken.None);
        string reference = temp.Combine("reference");
        TinyPreset.Write(reference, seed: 5);
        Assert.Equal(File.ReadAllBytes(Path.Combine(reference, "model.safetensors")), File.ReadAllBytes(Path.Combine(context.OutputDirectory, "model.safetensors")));
    }
}

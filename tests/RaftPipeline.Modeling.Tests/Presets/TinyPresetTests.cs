using System.Diagnostics;
using RaftPipeline.Modeling.Loading;
using RaftPipeline.Modeling.Presets;
using RaftPipeline.Modeling.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace RaftPipeline.Modeling.Tests.Presets;

[Collection(SerialCollection.Name)]
public class TinyPresetTests
{
    [Fact]
    public void Same_seed_writes_identical_bytes_and_another_seed_differs()
    {
        using var a = new TempDir();
        using var b = new TempDir();
        using var c = new TempDir();
        var files = TinyPreset.Write(a.Path, seed: 42);
        TinyPreset.Write(b.Path, seed: 42);
        TinyPreset.Write(c.Path, seed: 43);
        Assert.Equal(["config.json", "generation_config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"],
            files.Select(Path.GetFileName).Order(StringComparer.Ordinal));
        foreach (var f in files.Select(Path.GetFileName))
            Assert.Equal(File.ReadAllBytes(Path.Combine(a.Path, f!)), File.ReadAllBytes(Path.Combine(b.Path, f!)));
        Assert.NotEqual(File.ReadAllBytes(a.File("model.safetensors")), File.ReadAllBytes(c.File("model.safetensors")));
    }

    [Fact]
    public void SplitMix64_matches_the_reference_stream()
    {
        // First outputs of SplitMix64 seeded with 1234567 (the reference C implementation by Vigna).
        var rng = new SplitMix64(1234567);
        Assert.Equal(6457827717110365317UL, rng.Next());
        Assert.Equal(3203168211198807973UL, rng.Next());
        Assert.Equal(9817491932198370423UL, rng.Next());
    }

    [Fact]
    public void The_preset_loads_and_one_cpu_forward_takes_well_under_a_second()
    {
        using var dir = new TempDir();
        TinyPreset.Write(dir.Path, seed: 7);
        torch.set_num_threads(1); // the test box has 2 cores shared by many jobs; OpenMP spinning would dominate
        using var model = PretrainedLoader.Load(dir.Path, CPU, ScalarType.Float32);
        model.eval();
        var weights = model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        Assert.Equal(151936L * 64, weights["model.embed_tokens.weight"].numel());
        var std = weights["model.layers.0.mlp.up_proj.weight"].std().item<float>();
        Assert.InRange(std, 0.018f, 0.022f); // N(0, 0.02)
        Assert.Equal(1f, weights["model.norm.weight"].mean().item<float>());

        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var ids = torch.randint(0, 151936, [1, 64], ScalarType.Int64);
        model.Forward(ids); // warm-up
        var clock = Stopwatch.StartNew();
        var logits = model.Forward(ids).Logits;
        clock.Stop();
        Assert.Equal([1L, 64, 151936], logits.shape);
        Assert.True(clock.ElapsedMilliseconds < 1000, $"forward of 64 tokens took {clock.ElapsedMilliseconds} ms");
    }

    [Fact]
    public void Bf16_rounding_is_to_nearest_even()
    {
        Assert.Equal(0x3F80, TinyPreset.ToBFloat16(1.0f));
        Assert.Equal(0x3F80, TinyPreset.ToBFloat16(BitConverter.UInt32BitsToSingle(0x3F808000))); // tie → even
        Assert.Equal(0x3F82, TinyPreset.ToBFloat16(BitConverter.UInt32BitsToSingle(0x3F818000))); // tie → even (up)
        Assert.Equal(0x3F81, TinyPreset.ToBFloat16(BitConverter.UInt32BitsToSingle(0x3F808001)));
    }
}

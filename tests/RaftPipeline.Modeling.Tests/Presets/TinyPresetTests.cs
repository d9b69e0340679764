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
        Assert.Equal(TinyPreset.FinalNormWeight, weights[TinyPreset.FinalNormName].min().item<float>());
        Assert.Equal(TinyPreset.FinalNormWeight, weights[TinyPreset.FinalNormName].max().item<float>());
        foreach (var (name, w) in weights.Where(p => p.Key.EndsWith("norm.weight") && p.Key != TinyPreset.FinalNormName))
            Assert.True(w.eq(1f).all().item<bool>(), $"{name} is not all ones");

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

    // The property "it learns" (Training.Tests ItLearnsTests) relies on: LoRA trains only the projections, so the frozen
    // final norm and tied embedding bound how confident any prediction can be. Feeding the final norm a residual
    // stream pointing along token t's own embedding row gives the best hidden state for t; with the preset's final
    // norm weight that state makes t nearly certain. Measured (seed 7): mean loss 0.019; with weight 1 it is 10.68,
    // with 8 2.71, with 12 0.32.
    [Fact]
    public void The_final_norm_lets_a_hidden_state_make_any_token_nearly_certain()
    {
        using var dir = new TempDir();
        using var model = LoadSeed7(dir);
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var embedding = model.named_parameters().Single(p => p.name == "model.embed_tokens.weight").parameter;
        int hidden = TinyPreset.Config.HiddenSize;

        // Logit scale s = (rms of the final hidden state) · (std of the embedding) · √hidden.
        double scale = TinyPreset.FinalNormWeight * embedding.std().item<float>() * Math.Sqrt(hidden);
        Assert.InRange(scale, 2.0, 3.0);

        var tokens = torch.arange(0, 151936, 151936 / 256, ScalarType.Int64); // 256 tokens across the vocabulary
        var best = model.model.norm.forward(embedding.index_select(0, tokens).unsqueeze(0)); // [1, 256, hidden]
        var logits = torch.nn.functional.linear(best, model.OutputWeight).squeeze(0);
        double loss = torch.nn.functional.cross_entropy(logits, tokens).item<float>();
        Assert.True(loss < 0.1, $"the best hidden state leaves a mean loss of {loss:F3} (logit scale {scale:F2})");
    }

    // A random model's loss starts near ln V + s²/2 (logits ~ N(0, s²)): with s = 2.56, about 15.2 against ln V = 11.93.
    // Measured on this sentence with seed 7: 14.86 (weight 1: 11.89; 8: 12.36; 12: 13.24). A bounded start, and the
    // base model is not already confident about anything.
    [Fact]
    public void The_untrained_loss_on_text_starts_near_ln_vocab_plus_half_the_squared_logit_scale()
    {
        using var dir = new TempDir();
        using var model = LoadSeed7(dir);
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        double s = TinyPreset.FinalNormWeight * model.OutputWeight.std().item<float>() * Math.Sqrt(TinyPreset.Config.HiddenSize);
        double expected = Math.Log(TinyPreset.Config.VocabSize) + s * s / 2;
        var ids = Text.Tokenization.HuggingFaceTokenizer.FromDirectory(dir.Path)
            .Encode("Context: 서울은 대한민국의 수도이다. Question: 대한민국의 수도는? Answer: 그것도 몰라? 서울이야.", addSpecialTokens: false);
        var input = torch.tensor(ids.Select(i => (long)i).ToArray(), [1, ids.Length]);
        var logits = model.Forward(input).Logits.squeeze(0);
        double loss = torch.nn.functional.cross_entropy(logits[..^1], input.squeeze(0)[1..]).item<float>();
        Assert.InRange(loss, expected - 1.5, expected + 2.5);
    }

    [Fact]
    public void Bf16_rounding_is_to_nearest_even()
    {
        Assert.Equal(0x3F80, TinyPreset.ToBFloat16(1.0f));
        Assert.Equal(0x3F80, TinyPreset.ToBFloat16(BitConverter.UInt32BitsToSingle(0x3F808000))); // tie → even
        Assert.Equal(0x3F82, TinyPreset.ToBFloat16(BitConverter.UInt32BitsToSingle(0x3F818000))); // tie → even (up)
        Assert.Equal(0x3F81, TinyPreset.ToBFloat16(BitConverter.UInt32BitsToSingle(0x3F808001)));
    }

    /// <summary>The preset written with seed 7 (the seed the measured numbers above quote), loaded in fp32 for inference.</summary>
    static RaftPipeline.Modeling.Decoder.CausalLM LoadSeed7(TempDir dir)
    {
        TinyPreset.Write(dir.Path, seed: 7);
        var model = PretrainedLoader.Load(dir.Path, CPU, ScalarType.Float32);
        model.eval();
        return model;
    }
}

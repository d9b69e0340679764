using System.Text.Json.Nodes;
using RaftPipeline.Modeling.Config;
using RaftPipeline.Modeling.Decoder;
using RaftPipeline.Modeling.Native;
using RaftPipeline.Modeling.Safetensors;
using RaftPipeline.Text.Assets;
using TorchSharp;
using static TorchSharp.torch;

namespace RaftPipeline.Modeling.Presets;

/// <summary>
/// The "tiny" preset: a small random Qwen3 in Hugging Face layout with the real Qwen3 tokenizer, sized for
/// CPU training tests (about 10 M parameters, almost all in the 151,936-row embedding the real tokenizer needs).
/// Weights come from <see cref="SplitMix64"/> and are rounded to bf16 here, so the same seed writes the same
/// bytes on every machine.
/// <para>
/// Initialisation: every matrix (the embedding, which is also the tied lm_head, and every projection) is
/// N(0, initializer_range = 0.02), as config.json says; the layer norms' weights are 1 (transformers' init); the final
/// norm's weight (<c>model.norm.weight</c>) is <see cref="FinalNormWeight"/> = 16, not 1. Why: LoRA trains only the
/// projections, and the frozen final RMSNorm hands lm_head a hidden state of rms w (its weight), so the largest logit
/// any hidden state can give token j is w·√hidden·|E_j| ≈ w·√hidden·0.02·√hidden. With w = 1 that is 1.3 against
/// ln V = 11.93: no adapter could make any token likely (loss floor about 10.7; the quickstart's held-out loss went
/// only 11.93 → 11.46). With logit scale s = w·0.02·√hidden = 2.56, an aligned hidden state gives its token a logit of
/// 8s ≈ 20 while the rest sum to about exp(ln V + s²/2) ≈ exp(15.2), so a confident prediction (loss ≈ 0) is reachable;
/// a random model's loss starts near ln V + s²/2 ≈ 15 (measured 15–19) instead of 11.9, and under greedy decoding it
/// echoes its last token (newlines after the assistant prompt), so a tuned model's opening stands out. A larger final
/// norm weight was chosen over a larger embedding std (same s) because the embedding also feeds the residual stream:
/// scaled up 16×, it drowns the layers' small outputs, which must then grow as much before they can steer a
/// prediction; in the same 90-step run the loss fell only 20.2 → about 1.5 (final norm 16: 17.1 → about 0.2;
/// docs/training.md).
/// </para>
/// </summary>
public static class TinyPreset
{
    public const string Name = "tiny";
    public const int ImStartId = 151644;
    public const int ImEndId = 151645;
    public const int EndOfTextId = 151643;

    /// <summary>The final norm's weight (every element): sets the logit scale, see the class remarks. Exact in bf16.</summary>
    public const float FinalNormWeight = 16f;
    public const string FinalNormName = "model.norm.weight";

    public static ModelConfig Config { get; } = new()
    {
        Family = DecoderFamily.Qwen3,
        VocabSize = 151936,
        HiddenSize = 64,
        IntermediateSize = 192,
        NumHiddenLayers = 2,
        NumAttentionHeads = 4,
        NumKeyValueHeads = 2,
        HeadDim = 16,
        RmsNormEps = 1e-6,
        RopeTheta = 1_000_000,
        MaxPositionEmbeddings = 40960,
        TieWordEmbeddings = true,
        BosTokenId = EndOfTextId,
        EosTokenIds = [ImEndId],
        PadTokenId = EndOfTextId,
        Dtype = "bfloat16",
        InitializerRange = 0.02,
    };

    /// <summary>Writes the preset into <paramref name="directory"/>; returns the files written.</summary>
    public static IReadOnlyList<string> Write(string directory, ulong seed = 0)
    {
        TorchRuntime.EnsureInitialized();
        Directory.CreateDirectory(directory);
        var files = new List<string>();

        var config = Path.Combine(directory, "config.json");
        File.WriteAllText(config, Config.ToJson());
        files.Add(config);

        var generation = Path.Combine(directory, "generation_config.json");
        var gen = new JsonObject
        {
            ["bos_token_id"] = EndOfTextId,
            ["eos_token_id"] = new JsonArray(ImEndId, EndOfTextId),
            ["pad_token_id"] = EndOfTextId,
        };
        File.WriteAllText(generation, gen.ToJsonString(new() { WriteIndented = true }) + "\n");
        files.Add(generation);

        // Parameter names and shapes in the decoder's own order; values drawn in that order from one stream.
        var rng = new SplitMix64(seed);
        List<(string Name, long[] Shape)> layout;
        using (var shapeOnly = new CausalLM(Config, ScalarType.BFloat16, CPU))
            layout = shapeOnly.named_parameters().Select(p => (p.name, p.parameter.shape)).ToList();
        var tensors = layout.Select(p => new TensorToWrite(p.Name, ScalarType.BFloat16, p.Shape,
            () => Draw(p.Name, p.Shape, rng))).ToList();
        var weights = Path.Combine(directory, "model.safetensors");
        SafetensorsWriter.Write(weights, tensors, new Dictionary<string, string> { ["format"] = "pt" });
        files.Add(weights);

        EmbeddedAssets.WriteQwen3Tokenizer(directory);
        files.AddRange(EmbeddedAssets.Qwen3TokenizerFiles.Select(f => Path.Combine(directory, f)));
        return files;
    }

    /// <summary>
    /// Layer norm weights 1 (transformers' init), the final norm's <see cref="FinalNormWeight"/>; everything else
    /// N(0, initializer_range) in bf16. Norms draw nothing from the stream.
    /// </summary>
    static Tensor Draw(string name, long[] shape, SplitMix64 rng)
    {
        long n = shape.Aggregate(1L, (a, b) => a * b);
        var bits = new ushort[n];
        ushort? constant = name == FinalNormName ? ToBFloat16(FinalNormWeight)
            : name.EndsWith("norm.weight", StringComparison.Ordinal) ? ToBFloat16(1f)
            : null;
        for (long i = 0; i < n; i++)
            bits[i] = constant ?? ToBFloat16((float)(Config.InitializerRange * rng.NextNormal()));
        var t = torch.empty(shape, ScalarType.BFloat16, CPU);
        System.Runtime.InteropServices.MemoryMarshal.AsBytes(bits.AsSpan()).CopyTo(t.bytes);
        return t;
    }

    /// <summary>fp32 → bf16 with round-to-nearest-even, as libtorch converts.</summary>
    public static ushort ToBFloat16(float value)
    {
        uint b = BitConverter.SingleToUInt32Bits(value);
        if (float.IsNaN(value)) return 0x7FC0;
        uint roundingBias = 0x7FFF + ((b >> 16) & 1);
        return (ushort)((b + roundingBias) >> 16);
    }
}

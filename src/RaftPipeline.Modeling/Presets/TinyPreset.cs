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
/// </summary>
public static class TinyPreset
{
    public const string Name = "tiny";
    public const int ImStartId = 151644;
    public const int ImEndId = 151645;
    public const int EndOfTextId = 151643;

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

    /// <summary>Norm weights 1 (transformers' init); everything else N(0, initializer_range) in bf16.</summary>
    static Tensor Draw(string name, long[] shape, SplitMix64 rng)
    {
        long n = shape.Aggregate(1L, (a, b) => a * b);
        var bits = new ushort[n];
        bool norm = name.EndsWith("norm.weight", StringComparison.Ordinal);
        for (long i = 0; i < n; i++)
            bits[i] = norm ? (ushort)0x3F80 : ToBFloat16((float)(Config.InitializerRange * rng.NextNormal()));
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

using System.Text.Json;
using RaftPipeline.Export.Families;

namespace RaftPipeline.Export.Source;

/// <summary>
/// What GGUF needs from a folder's config.json, for the families the tool loads. Defaults follow transformers' config
/// classes, as RaftPipeline.Modeling's ModelConfigReader does (that reader lives with TorchSharp; this project must
/// not): num_key_value_heads = heads, head_dim = hidden / heads, no tying. The keys only some families have are read
/// by the family's <see cref="GgufFamily.Read"/>.
/// </summary>
public sealed record ExportModelConfig
{
    public required GgufFamily Family { get; init; }
    public required string ModelType { get; init; }
    public required int VocabSize { get; init; }
    public required int HiddenSize { get; init; }
    public required int IntermediateSize { get; init; }
    public required int NumHiddenLayers { get; init; }
    public required int NumAttentionHeads { get; init; }
    public required int NumKeyValueHeads { get; init; }
    public required int HeadDim { get; init; }
    public required double RmsNormEps { get; init; }
    /// <summary>The RoPE of every layer (Gemma 3: of the full-attention layers).</summary>
    public required RopeParameters Rope { get; init; }
    public required int MaxPositionEmbeddings { get; init; }
    public required bool TieWordEmbeddings { get; init; }
    public int? BosTokenId { get; init; }
    public IReadOnlyList<int> EosTokenIds { get; init; } = [];
    public int? PadTokenId { get; init; }

    // Family keys (null where the family has none).
    public int? SlidingWindow { get; init; }
    /// <summary>Per layer: sliding_attention or full_attention (Gemma).</summary>
    public IReadOnlyList<string>? LayerTypes { get; init; }
    /// <summary>Gemma 3: the RoPE of the sliding layers.</summary>
    public RopeParameters? SlidingRope { get; init; }
    public double? QueryPreAttnScalar { get; init; }
    public double? AttnLogitSoftcapping { get; init; }
    public double? FinalLogitSoftcapping { get; init; }
    /// <summary>Phi-3: the share of each head's dimensions RoPE rotates.</summary>
    public double PartialRotaryFactor { get; init; } = 1;

    public static ExportModelConfig ReadFolder(string folder)
    {
        var path = System.IO.Path.Combine(folder, "config.json");
        if (!File.Exists(path)) throw new ExportException(path, "not found (expected a Hugging Face model folder)");
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(File.ReadAllText(path));
        }
        catch (JsonException e)
        {
            throw new ExportException(path, $"not valid JSON: {e.Message}");
        }
        using (doc)
        {
            var r = new ConfigJson(path, doc.RootElement);
            var modelType = r.OptionalString("model_type") ?? throw r.Error("model_type", "is missing");
            var family = GgufFamilies.For(modelType)
                ?? throw new ExportException(path, $"model_type '{modelType}' cannot be exported (supported: {GgufFamilies.SupportedModelTypes}){GgufFamilies.WhyNot(modelType)}");
            int hidden = r.Int("hidden_size"), heads = r.Int("num_attention_heads");
            var ropeObject = r.OptionalObject("rope_parameters") ?? r.OptionalObject("rope_scaling");
            var shared = new ExportModelConfig
            {
                Family = family,
                ModelType = modelType,
                VocabSize = r.Int("vocab_size"),
                HiddenSize = hidden,
                IntermediateSize = r.Int("intermediate_size"),
                NumHiddenLayers = r.Int("num_hidden_layers"),
                NumAttentionHeads = heads,
                NumKeyValueHeads = r.OptionalInt("num_key_value_heads") ?? heads,
                HeadDim = r.OptionalInt("head_dim") ?? hidden / heads,
                RmsNormEps = r.OptionalDouble("rms_norm_eps") ?? throw r.Error("rms_norm_eps", "is missing"),
                // Gemma 3 nests the parameters per layer type; its family reads them.
                Rope = ropeObject is not null && ropeObject.Has("full_attention")
                    ? RopeParameters.Read(ropeObject.OptionalObject("full_attention"), r.OptionalDouble("rope_theta"), r)
                    : RopeParameters.Read(ropeObject, r.OptionalDouble("rope_theta"), r),
                MaxPositionEmbeddings = r.OptionalInt("max_position_embeddings") ?? 40960,
                TieWordEmbeddings = r.OptionalBool("tie_word_embeddings") ?? family.TiesEmbeddingsByDefault,
                BosTokenId = r.OptionalInt("bos_token_id"),
                EosTokenIds = r.IntOrIntList("eos_token_id"),
                PadTokenId = r.OptionalInt("pad_token_id"),
            };
            var config = family.Read(shared, r);
            if (config.Rope.Type != "default" && !family.RopeScalings.Contains(config.Rope.Type))
                throw r.Error("rope_parameters.rope_type", $"'{config.Rope.Type}' cannot be exported for {modelType} " +
                    $"(supported: default{string.Concat(family.RopeScalings.Select(s => ", " + s))}){GgufRope.WhyNot(config.Rope.Type)}");
            GgufRope.Check(config, r);
            return config;
        }
    }
}

using System.Text.Json;
using RaftPipeline.Modeling.Families;

namespace RaftPipeline.Modeling.Config;

/// <summary>
/// Reads <c>config.json</c> into a <see cref="ModelConfig"/>: the keys every family shares here, the family's own keys
/// in its <see cref="FamilyDescriptor"/> (found by model_type in <see cref="DecoderFamilies"/>). Follows the
/// defaults of transformers' config classes where they have one (num_key_value_heads = heads, head_dim =
/// hidden/heads, tie_word_embeddings false); a field without a default is required and its absence is an error
/// naming the key and the file.
/// </summary>
public static class ModelConfigReader
{
    public static ModelConfig ReadFile(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"config.json not found: {path}", path);
        return Parse(File.ReadAllText(path), path);
    }

    /// <summary>Reads <c>config.json</c> from a model folder.</summary>
    public static ModelConfig ReadFolder(string directory) => ReadFile(Path.Combine(directory, "config.json"));

    public static ModelConfig Parse(string json, string file)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json, new JsonDocumentOptions { AllowTrailingCommas = true });
        }
        catch (JsonException e)
        {
            throw new ModelConfigException(file, "(document)", $"not valid JSON: {e.Message}");
        }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw new ModelConfigException(file, "(document)", "must be a JSON object");
            var r = new ConfigJsonReader(root, file);

            var modelType = r.String("model_type");
            var descriptor = DecoderFamilies.ForModelType(modelType) ?? throw new ModelConfigException(file, "model_type",
                $"unsupported model_type '{modelType}' (supported: {DecoderFamilies.SupportedModelTypes})");

            int hidden = r.Int("hidden_size");
            int heads = r.Int("num_attention_heads");
            int kvHeads = r.OptionalInt("num_key_value_heads") ?? heads;
            int headDim = r.OptionalInt("head_dim") ?? (hidden % heads == 0 ? hidden / heads
                : throw new ModelConfigException(file, "head_dim", $"absent, and hidden_size {hidden} is not divisible by num_attention_heads {heads}"));
            if (heads % kvHeads != 0)
                throw new ModelConfigException(file, "num_key_value_heads", $"{kvHeads} must divide num_attention_heads {heads}");

            // The keys every family shares; the descriptor then reads its own and sets its blocks' switches.
            var shared = new ModelConfig
            {
                Family = descriptor.Family,
                VocabSize = r.Int("vocab_size"),
                HiddenSize = hidden,
                IntermediateSize = r.Int("intermediate_size"),
                NumHiddenLayers = r.Int("num_hidden_layers"),
                NumAttentionHeads = heads,
                NumKeyValueHeads = kvHeads,
                HeadDim = headDim,
                RmsNormEps = r.Double("rms_norm_eps"),
                RopeTheta = ReadRopeTheta(root, r, file),
                MaxPositionEmbeddings = r.OptionalInt("max_position_embeddings") ?? 40960,
                TieWordEmbeddings = r.OptionalBool("tie_word_embeddings") ?? false,
                BosTokenId = r.OptionalInt("bos_token_id"),
                EosTokenIds = r.IntOrIntList("eos_token_id"),
                PadTokenId = r.OptionalInt("pad_token_id"),
                Dtype = r.OptionalString("dtype") ?? r.OptionalString("torch_dtype"),
                InitializerRange = r.OptionalDouble("initializer_range") ?? 0.02,
            };
            var config = descriptor.Read(shared, r);
            var act = r.OptionalString("hidden_act") ?? "silu";
            if (act != config.HiddenAct)
                throw new ModelConfigException(file, "hidden_act",
                    $"'{act}' is not supported for {modelType} (supported: {config.HiddenAct})");
            return config;
        }
    }

    /// <summary>
    /// transformers 4.x writes rope_theta top-level (and rope_scaling); 5.x writes rope_parameters
    /// {rope_theta, rope_type}. Only the default RoPE is implemented: a scaled variant is refused by name.
    /// </summary>
    static double ReadRopeTheta(JsonElement root, ConfigJsonReader r, string file)
    {
        double? theta = null;
        string? ropeType = null;
        if (root.TryGetProperty("rope_parameters", out var p) && p.ValueKind == JsonValueKind.Object)
        {
            var pr = new ConfigJsonReader(p, file, "rope_parameters.");
            theta = pr.OptionalDouble("rope_theta");
            ropeType = pr.OptionalString("rope_type") ?? pr.OptionalString("type");
        }
        if (root.TryGetProperty("rope_scaling", out var s) && s.ValueKind == JsonValueKind.Object)
        {
            var sr = new ConfigJsonReader(s, file, "rope_scaling.");
            ropeType ??= sr.OptionalString("rope_type") ?? sr.OptionalString("type");
        }
        if (ropeType is not null && ropeType != "default")
            throw new ModelConfigException(file, "rope_type", $"RoPE variant '{ropeType}' is not supported (only 'default')");
        theta ??= r.OptionalDouble("rope_theta");
        return theta ?? throw new ModelConfigException(file, "rope_theta",
            "missing: expected top-level 'rope_theta' (transformers 4.x) or 'rope_parameters.rope_theta' (transformers 5.x)");
    }
}

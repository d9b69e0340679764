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
    /// <summary>max_position_embeddings when config.json has none.</summary>
    const int DefaultMaxPositionEmbeddings = 40960;

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
            int headDim = HeadDim(r);
            if (heads % kvHeads != 0)
                throw new ModelConfigException(file, "num_key_value_heads", $"{kvHeads} must divide num_attention_heads {heads}");

            var rope = ReadRope(r);
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
                RopeTheta = rope.Theta,
                RopeScaling = rope.Scaling,
                PartialRotaryFactor = ReadPartialRotaryFactor(r),
                MaxPositionEmbeddings = r.OptionalInt("max_position_embeddings") ?? DefaultMaxPositionEmbeddings,
                TieWordEmbeddings = r.OptionalBool("tie_word_embeddings") ?? false,
                BosTokenId = r.OptionalInt("bos_token_id"),
                EosTokenIds = r.IntOrIntList("eos_token_id"),
                PadTokenId = r.OptionalInt("pad_token_id"),
                Dtype = r.OptionalString("dtype") ?? r.OptionalString("torch_dtype"),
                InitializerRange = r.OptionalDouble("initializer_range") ?? 0.02,
            };
            var config = descriptor.Read(shared, r);
            var act = r.OptionalString("hidden_act") ?? config.HiddenAct;
            if (act != config.HiddenAct)
                throw new ModelConfigException(file, "hidden_act",
                    $"'{act}' is not supported for {modelType} (supported: {config.HiddenAct})");
            return config;
        }
    }

    /// <summary>config's head_dim, else hidden_size / num_attention_heads.</summary>
    static int HeadDim(ConfigJsonReader r)
    {
        int hidden = r.Int("hidden_size"), heads = r.Int("num_attention_heads");
        return r.OptionalInt("head_dim") ?? (hidden % heads == 0 ? hidden / heads
            : throw new ModelConfigException(r.File, "head_dim", $"absent, and hidden_size {hidden} is not divisible by num_attention_heads {heads}"));
    }

    /// <summary>
    /// RoPE: transformers 4.x writes rope_theta top-level and a scaled variant in rope_scaling; 5.x writes
    /// rope_parameters {rope_type, rope_theta, options} (Gemma 3: one such object per layer type, the full-attention one
    /// is read here, the family reads the others). A type or an option not implemented is refused by name.
    /// </summary>
    internal static (double Theta, RopeScaling? Scaling) ReadRope(ConfigJsonReader r, string? layerType = null)
    {
        var parameters = r.OptionalObject("rope_parameters");
        if (parameters is not null && layerType is not null) parameters = parameters.OptionalObject(layerType)
            ?? throw parameters.Error(layerType, "missing: rope_parameters is given per layer type, and this layer type has none");
        else if (parameters is not null && parameters.Has("full_attention")) parameters = parameters.OptionalObject("full_attention");
        var legacy = r.OptionalObject("rope_scaling");
        var declared = parameters is not null && (parameters.Has("rope_type") || parameters.Has("type")) ? parameters
            : legacy is not null && (legacy.Has("rope_type") || legacy.Has("type")) ? legacy : null;
        var type = declared is null ? "default" : declared.OptionalString("rope_type") ?? declared.String("type");

        double theta = parameters?.OptionalDouble("rope_theta") ?? r.OptionalDouble("rope_theta") ?? throw new ModelConfigException(r.File, "rope_theta",
            "missing: expected top-level 'rope_theta' (transformers 4.x) or 'rope_parameters.rope_theta' (transformers 5.x)");
        if (!RopeScaling.SupportedTypes.Contains(type))
            throw new ModelConfigException(r.File, "rope_type",
                $"RoPE type '{type}' is not supported (supported: {string.Join(", ", RopeScaling.SupportedTypes)})");
        if (declared is null || type == "default") return (theta, null);

        var options = RopeScaling.OptionsOf(type);
        foreach (var key in declared.Keys)
            if (key is not ("rope_type" or "type" or "rope_theta" or "partial_rotary_factor") && !options.Contains(key))
                throw declared.Error(key, $"option '{key}' of RoPE type '{type}' is not supported (supported: {string.Join(", ", options)})");
        double Required(string key) => declared.OptionalDouble(key) ?? throw new ModelConfigException(r.File, "rope_type",
            $"RoPE type '{type}' needs the option '{key}' (a number), which is missing");
        if (type == "longrope") return (theta, ReadLongRope(r, declared));
        var scaling = new RopeScaling
        {
            Type = type,
            Factor = Required("factor"),
            LowFreqFactor = type == "llama3" ? Required("low_freq_factor") : null,
            HighFreqFactor = type == "llama3" ? Required("high_freq_factor") : null,
            OriginalMaxPositionEmbeddings = type == "llama3" ? (int)Required("original_max_position_embeddings")
                : declared.OptionalInt("original_max_position_embeddings"),
            BetaFast = declared.OptionalDouble("beta_fast"),
            BetaSlow = declared.OptionalDouble("beta_slow"),
            AttentionFactor = declared.OptionalDouble("attention_factor"),
            Mscale = declared.OptionalDouble("mscale"),
            MscaleAllDim = declared.OptionalDouble("mscale_all_dim"),
            Truncate = declared.OptionalBool("truncate"),
        };
        if (type == "llama3" && scaling.LowFreqFactor == scaling.HighFreqFactor)
            throw new ModelConfigException(r.File, "rope_type", "RoPE type 'llama3' needs low_freq_factor != high_freq_factor");
        return (theta, scaling);
    }

    /// <summary>
    /// longrope (Phi-3.5, Phi-4-mini): short_factor and long_factor, original_max_position_embeddings in the RoPE object
    /// (5.x) or top-level (4.x Phi-3 configs); the factor, when absent, is max_position_embeddings / original (as
    /// transformers derives it for the cos/sin scale).
    /// </summary>
    static RopeScaling ReadLongRope(ConfigJsonReader r, ConfigJsonReader declared)
    {
        int headDim = HeadDim(r);
        double partial = ReadPartialRotaryFactor(r);
        int frequencies = (int)(headDim * partial) / 2;
        IReadOnlyList<double> Factors(string key)
        {
            var list = declared.OptionalDoubleList(key) ?? throw declared.Error(key,
                $"missing: RoPE type 'longrope' needs short_factor and long_factor, {frequencies} numbers each (one per rotary frequency)");
            return list.Count == frequencies ? list : throw declared.Error(key,
                $"has {list.Count} numbers; expected {frequencies} (head_dim {headDim} · partial_rotary_factor {partial} / 2)");
        }
        var shortFactor = Factors("short_factor");
        var longFactor = Factors("long_factor");
        int original = declared.OptionalInt("original_max_position_embeddings") ?? r.OptionalInt("original_max_position_embeddings")
            ?? throw declared.Error("original_max_position_embeddings",
                "missing: RoPE type 'longrope' needs the pre-training context length (in the RoPE object or top-level)");
        if (original <= 0) throw declared.Error("original_max_position_embeddings", $"expected a positive integer, found {original}");
        var given = declared.OptionalDouble("factor");
        return new RopeScaling
        {
            Type = "longrope",
            Factor = given ?? (double)(r.OptionalInt("max_position_embeddings") ?? DefaultMaxPositionEmbeddings) / original,
            FactorDerived = given is null,
            ShortFactor = shortFactor,
            LongFactor = longFactor,
            OriginalMaxPositionEmbeddings = original,
            AttentionFactor = declared.OptionalDouble("attention_factor"),
        };
    }

    /// <summary>partial_rotary_factor top-level (4.x) or in rope_parameters (5.x); 1 when absent.</summary>
    static double ReadPartialRotaryFactor(ConfigJsonReader r)
    {
        var p = r.OptionalObject("rope_parameters");
        var f = r.OptionalDouble("partial_rotary_factor") ?? (p is not null && !p.Has("full_attention") ? p.OptionalDouble("partial_rotary_factor") : null);
        if (f is double v && (v <= 0 || v > 1)) throw new ModelConfigException(r.File, "partial_rotary_factor", $"expected a number in (0, 1], found {v}");
        return f ?? 1.0;
    }
}

using System.Text.Json;

namespace RaftPipeline.Modeling.Config;

/// <summary>
/// Reads <c>config.json</c> of model_type qwen3, qwen2 or llama into a <see cref="ModelConfig"/>. Follows the
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
            var r = new Reader(root, file);

            var modelType = r.String("model_type");
            var family = modelType switch
            {
                "qwen3" => DecoderFamily.Qwen3,
                "qwen2" => DecoderFamily.Qwen2,
                "llama" => DecoderFamily.Llama,
                _ => throw new ModelConfigException(file, "model_type",
                    $"unsupported model_type '{modelType}' (supported: qwen3, qwen2, llama)"),
            };

            var act = r.OptionalString("hidden_act") ?? "silu";
            if (act != "silu") throw new ModelConfigException(file, "hidden_act", $"'{act}' is not supported (only silu, as SwiGLU uses)");

            int hidden = r.Int("hidden_size");
            int heads = r.Int("num_attention_heads");
            int kvHeads = r.OptionalInt("num_key_value_heads") ?? heads;
            int headDim = r.OptionalInt("head_dim") ?? (hidden % heads == 0 ? hidden / heads
                : throw new ModelConfigException(file, "head_dim", $"absent, and hidden_size {hidden} is not divisible by num_attention_heads {heads}"));
            if (heads % kvHeads != 0)
                throw new ModelConfigException(file, "num_key_value_heads", $"{kvHeads} must divide num_attention_heads {heads}");

            bool attentionBias = r.OptionalBool("attention_bias") ?? false;
            if (family == DecoderFamily.Qwen3 && (r.OptionalBool("use_sliding_window") ?? false))
                throw new ModelConfigException(file, "use_sliding_window", "sliding-window attention is not supported");

            return new ModelConfig
            {
                Family = family,
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
                // Qwen2 hard-codes bias on q/k/v and none on o (modeling_qwen2.py); the others follow attention_bias.
                QkvBias = family == DecoderFamily.Qwen2 || attentionBias,
                OutputBias = family != DecoderFamily.Qwen2 && attentionBias,
                MlpBias = family == DecoderFamily.Llama && (r.OptionalBool("mlp_bias") ?? false),
                BosTokenId = r.OptionalInt("bos_token_id"),
                EosTokenIds = r.IntOrIntList("eos_token_id"),
                PadTokenId = r.OptionalInt("pad_token_id"),
                Dtype = r.OptionalString("dtype") ?? r.OptionalString("torch_dtype"),
                InitializerRange = r.OptionalDouble("initializer_range") ?? 0.02,
            };
        }
    }

    /// <summary>
    /// transformers 4.x writes rope_theta top-level (and rope_scaling); 5.x writes rope_parameters
    /// {rope_theta, rope_type}. Only the default RoPE is implemented: a scaled variant is refused by name.
    /// </summary>
    static double ReadRopeTheta(JsonElement root, Reader r, string file)
    {
        double? theta = null;
        string? ropeType = null;
        if (root.TryGetProperty("rope_parameters", out var p) && p.ValueKind == JsonValueKind.Object)
        {
            var pr = new Reader(p, file, "rope_parameters.");
            theta = pr.OptionalDouble("rope_theta");
            ropeType = pr.OptionalString("rope_type") ?? pr.OptionalString("type");
        }
        if (root.TryGetProperty("rope_scaling", out var s) && s.ValueKind == JsonValueKind.Object)
        {
            var sr = new Reader(s, file, "rope_scaling.");
            ropeType ??= sr.OptionalString("rope_type") ?? sr.OptionalString("type");
        }
        if (ropeType is not null && ropeType != "default")
            throw new ModelConfigException(file, "rope_type", $"RoPE variant '{ropeType}' is not supported (only 'default')");
        theta ??= r.OptionalDouble("rope_theta");
        return theta ?? throw new ModelConfigException(file, "rope_theta",
            "missing: expected top-level 'rope_theta' (transformers 4.x) or 'rope_parameters.rope_theta' (transformers 5.x)");
    }

    sealed class Reader(JsonElement obj, string file, string prefix = "")
    {
        JsonElement? Get(string key) =>
            obj.TryGetProperty(key, out var v) && v.ValueKind != JsonValueKind.Null ? v : null;

        ModelConfigException Wrong(string key, string expected, JsonElement v) =>
            new(file, prefix + key, $"expected {expected}, found {v.GetRawText()}");

        ModelConfigException Missing(string key, string expected) =>
            new(file, prefix + key, $"missing required field ({expected})");

        public string String(string key) => OptionalString(key) ?? throw Missing(key, "a string");
        public int Int(string key) => OptionalInt(key) ?? throw Missing(key, "an integer");
        public double Double(string key) => OptionalDouble(key) ?? throw Missing(key, "a number");

        public string? OptionalString(string key) => Get(key) is { } v
            ? (v.ValueKind == JsonValueKind.String ? v.GetString() : throw Wrong(key, "a string", v))
            : null;

        public int? OptionalInt(string key) => Get(key) is { } v
            ? (v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var i) ? i : throw Wrong(key, "an integer", v))
            : null;

        public double? OptionalDouble(string key) => Get(key) is { } v
            ? (v.ValueKind == JsonValueKind.Number ? v.GetDouble() : throw Wrong(key, "a number", v))
            : null;

        public bool? OptionalBool(string key) => Get(key) is { } v
            ? v.ValueKind switch
            {
                JsonValueKind.True => true,
                JsonValueKind.False => false,
                _ => throw Wrong(key, "true or false", v),
            }
            : null;

        public IReadOnlyList<int> IntOrIntList(string key)
        {
            if (Get(key) is not { } v) return [];
            if (v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var single)) return [single];
            if (v.ValueKind == JsonValueKind.Array)
                return v.EnumerateArray().Select(e => e.ValueKind == JsonValueKind.Number && e.TryGetInt32(out var x) ? x : throw Wrong(key, "integers", e)).ToList();
            throw Wrong(key, "an integer or a list of integers", v);
        }
    }
}

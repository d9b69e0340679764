using System.Text.Json.Nodes;
using RaftPipeline.Modeling.Config;
using RaftPipeline.Modeling.Presets;

/// <summary>
/// The model shapes the training benchmark builds (random weights), with the ids its synthetic rows use: the response
/// template the completion-only collator looks for, the pad id, and the range random ids are drawn from (below the
/// family's special tokens). The family shapes are written as the config.json of the real model and read by
/// <see cref="ModelConfigReader"/>, the reader every loaded model goes through, so the benchmark builds the same
/// blocks a real checkpoint of that family gets. Each family also has a "-tiny" shape (same config keys, small
/// dimensions, real vocabulary) so its code paths run on a CPU in seconds.
/// </summary>
sealed record BenchShape(ModelConfig Config, int[] ResponseTemplate, int PadId, int MaxRandomId)
{
    public const string Names = "tiny, 4b, llama3-8b, llama3-tiny, gemma3-4b, gemma3-tiny";

    public static BenchShape Of(string name) => name switch
    {
        "tiny" => Qwen(TinyPreset.Config),
        // Qwen3-4B-Instruct-2507's exact shape.
        "4b" => Qwen(TinyPreset.Config with
        {
            HiddenSize = 2560, IntermediateSize = 9728, NumHiddenLayers = 36, NumAttentionHeads = 32,
            NumKeyValueHeads = 8, HeadDim = 128, RopeTheta = 5_000_000,
        }),
        "llama3-8b" => Llama3(Llama3_1_8B()),
        "llama3-tiny" => Llama3(Tiny(Llama3_1_8B(), layers: 2)),
        "gemma3-4b" => Gemma3(Gemma3_4B()),
        // Six layers so that the default pattern gives both layer types (five sliding, one full), and a window
        // shorter than the benchmark's rows so the sliding mask cuts.
        "gemma3-tiny" => Gemma3(Tiny(Gemma3_4B(), layers: 6, extra: new() { ["sliding_window"] = 16, ["query_pre_attn_scalar"] = 16 })),
        _ => throw new ArgumentException($"--shape: expected one of {Names}, got '{name}'"),
    };

    // <|im_start|>assistant; pad <|endoftext|>.
    static BenchShape Qwen(ModelConfig config) => new(config, [TinyPreset.ImStartId, 77091], TinyPreset.EndOfTextId, 150000);

    // <|start_header_id|>assistant; pad <|finetune_right_pad_id|>; the 256 special tokens start at 128000.
    static BenchShape Llama3(JsonObject json) => new(Read(json), [128006, 78191], 128004, 128000);

    // <start_of_turn>model; pad <pad> (0); ids below 256000 (the image and added tokens sit above).
    static BenchShape Gemma3(JsonObject json) => new(Read(json), [105, 2516], 0, 256000);

    /// <summary>
    /// Llama-3.1-8B (meta-llama/Llama-3.1-8B config.json): Meta's params.json dim 4096, 32 layers, 32 heads, 8 KV heads,
    /// norm_eps 1e-5, rope_theta 500000, and intermediate 14336 = transformers' compute_intermediate_size(4096,
    /// ffn_dim_multiplier 1.3, multiple_of 1024) in convert_llama_weights_to_hf.py; vocabulary 128,256, untied head,
    /// RoPE type llama3 (factor 8, low/high frequency factors 1 and 4, original context 8192).
    /// </summary>
    static JsonObject Llama3_1_8B() => new()
    {
        ["model_type"] = "llama", ["vocab_size"] = 128256, ["hidden_size"] = 4096, ["intermediate_size"] = 14336,
        ["num_hidden_layers"] = 32, ["num_attention_heads"] = 32, ["num_key_value_heads"] = 8, ["head_dim"] = 128,
        ["rms_norm_eps"] = 1e-5, ["max_position_embeddings"] = 131072, ["tie_word_embeddings"] = false,
        ["attention_bias"] = false, ["mlp_bias"] = false, ["hidden_act"] = "silu",
        ["rope_parameters"] = new JsonObject
        {
            ["rope_type"] = "llama3", ["rope_theta"] = 500000.0, ["factor"] = 8.0, ["low_freq_factor"] = 1.0,
            ["high_freq_factor"] = 4.0, ["original_max_position_embeddings"] = 8192,
        },
        ["bos_token_id"] = 128000, ["eos_token_id"] = new JsonArray(128001, 128008, 128009),
    };

    /// <summary>
    /// The text tower of google/gemma-3-4b-it (gemma3_text, Gemma3ForCausalLM), as transformers'
    /// models/gemma3/convert_gemma3_weights.py defines the gemma3_4b variant: hidden 2560, intermediate 2560·8/2 = 10240,
    /// 34 layers, 8 heads, 4 KV heads, head_dim 256, query_pre_attn_scalar 256, sliding window 1024, no soft-caps, full
    /// layers RoPE θ 1e6 with linear scaling factor 8, sliding layers θ 10000 unscaled; vocabulary 262,144 + the 64 rows
    /// that script appends when it converts the vision checkpoint (-it) = 262,208 (Gemma3TextConfig's default too);
    /// Gemma3TextConfig's defaults for the rest: every sixth layer full attention, GELU-tanh, eps 1e-6, tied head.
    /// </summary>
    static JsonObject Gemma3_4B() => new()
    {
        ["model_type"] = "gemma3_text", ["vocab_size"] = 262208, ["hidden_size"] = 2560, ["intermediate_size"] = 10240,
        ["num_hidden_layers"] = 34, ["num_attention_heads"] = 8, ["num_key_value_heads"] = 4, ["head_dim"] = 256,
        ["rms_norm_eps"] = 1e-6, ["max_position_embeddings"] = 131072, ["tie_word_embeddings"] = true,
        ["query_pre_attn_scalar"] = 256, ["sliding_window"] = 1024, ["sliding_window_pattern"] = 6,
        ["hidden_activation"] = "gelu_pytorch_tanh", ["attn_logit_softcapping"] = null, ["final_logit_softcapping"] = null,
        ["rope_parameters"] = new JsonObject
        {
            ["full_attention"] = new JsonObject { ["rope_type"] = "linear", ["factor"] = 8.0, ["rope_theta"] = 1_000_000.0 },
            ["sliding_attention"] = new JsonObject { ["rope_type"] = "default", ["rope_theta"] = 10_000.0 },
        },
        ["bos_token_id"] = 2, ["eos_token_id"] = new JsonArray(1, 106), ["pad_token_id"] = 0,
    };

    /// <summary>The same config with small dimensions (hidden 64, 4 heads of 16, 2 KV heads), keeping vocabulary and every family key.</summary>
    static JsonObject Tiny(JsonObject json, int layers, JsonObject? extra = null)
    {
        json["hidden_size"] = 64;
        json["intermediate_size"] = 192;
        json["num_hidden_layers"] = layers;
        json["num_attention_heads"] = 4;
        json["num_key_value_heads"] = 2;
        json["head_dim"] = 16;
        if (extra is not null)
            foreach (var (key, value) in extra) json[key] = value?.DeepClone();
        return json;
    }

    static ModelConfig Read(JsonObject json) => ModelConfigReader.Parse(json.ToJsonString(), "bench/Training/BenchShapes.cs");
}

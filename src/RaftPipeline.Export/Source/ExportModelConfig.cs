using System.Text.Json;

namespace RaftPipeline.Export.Source;

/// <summary>
/// What GGUF needs from a folder's config.json, for the families the tool loads (model_type qwen3, qwen2, llama).
/// Defaults follow transformers' config classes, as RaftPipeline.Modeling's ModelConfigReader does (that reader lives
/// with TorchSharp; this project must not): num_key_value_heads = heads, head_dim = hidden / heads, no tying.
/// </summary>
public sealed record ExportModelConfig
{
    public static readonly IReadOnlyList<string> SupportedModelTypes = ["qwen3", "qwen2", "llama"];

    public required string ModelType { get; init; }
    public required int VocabSize { get; init; }
    public required int HiddenSize { get; init; }
    public required int IntermediateSize { get; init; }
    public required int NumHiddenLayers { get; init; }
    public required int NumAttentionHeads { get; init; }
    public required int NumKeyValueHeads { get; init; }
    public required int HeadDim { get; init; }
    public required double RmsNormEps { get; init; }
    public required double RopeTheta { get; init; }
    public required int MaxPositionEmbeddings { get; init; }
    public required bool TieWordEmbeddings { get; init; }
    public int? BosTokenId { get; init; }
    public IReadOnlyList<int> EosTokenIds { get; init; } = [];
    public int? PadTokenId { get; init; }

    public static ExportModelConfig ReadFolder(string folder)
    {
        var path = Path.Combine(folder, "config.json");
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
            var root = doc.RootElement;
            JsonElement? Get(JsonElement o, string key) => o.TryGetProperty(key, out var v) && v.ValueKind != JsonValueKind.Null ? v : null;
            int? OptInt(string key) => Get(root, key) is { } v ? v.TryGetInt32(out var i) ? i : throw new ExportException(path, $"\"{key}\" must be an integer") : null;
            int Int(string key) => OptInt(key) ?? throw new ExportException(path, $"\"{key}\" is missing (an integer)");
            var modelType = Get(root, "model_type")?.GetString() ?? throw new ExportException(path, "\"model_type\" is missing");
            if (!SupportedModelTypes.Contains(modelType))
                throw new ExportException(path, $"model_type '{modelType}' cannot be exported (supported: {string.Join(", ", SupportedModelTypes)})");
            int hidden = Int("hidden_size"), heads = Int("num_attention_heads");

            double? theta = Get(root, "rope_theta")?.GetDouble();
            string? ropeType = null;
            foreach (var key in new[] { "rope_parameters", "rope_scaling" })
                if (Get(root, key) is { ValueKind: JsonValueKind.Object } p)
                {
                    theta ??= Get(p, "rope_theta")?.GetDouble();
                    ropeType ??= (Get(p, "rope_type") ?? Get(p, "type"))?.GetString();
                }
            if (ropeType is not null && ropeType != "default")
                throw new ExportException(path, $"RoPE variant '{ropeType}' cannot be exported (only 'default', the one the tool trains)");

            var eos = Get(root, "eos_token_id") switch
            {
                null => [],
                { ValueKind: JsonValueKind.Array } a => a.EnumerateArray().Select(e => e.GetInt32()).ToList(),
                { } v => (IReadOnlyList<int>)[v.GetInt32()],
            };
            return new ExportModelConfig
            {
                ModelType = modelType,
                VocabSize = Int("vocab_size"),
                HiddenSize = hidden,
                IntermediateSize = Int("intermediate_size"),
                NumHiddenLayers = Int("num_hidden_layers"),
                NumAttentionHeads = heads,
                NumKeyValueHeads = OptInt("num_key_value_heads") ?? heads,
                HeadDim = OptInt("head_dim") ?? hidden / heads,
                RmsNormEps = Get(root, "rms_norm_eps")?.GetDouble() ?? throw new ExportException(path, "\"rms_norm_eps\" is missing"),
                RopeTheta = theta ?? throw new ExportException(path, "\"rope_theta\" is missing (top level or rope_parameters)"),
                MaxPositionEmbeddings = OptInt("max_position_embeddings") ?? 40960,
                TieWordEmbeddings = Get(root, "tie_word_embeddings")?.GetBoolean() ?? false,
                BosTokenId = OptInt("bos_token_id"),
                EosTokenIds = eos,
                PadTokenId = OptInt("pad_token_id"),
            };
        }
    }
}

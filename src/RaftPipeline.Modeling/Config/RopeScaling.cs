using System.Text.Json.Nodes;

namespace RaftPipeline.Modeling.Config;

/// <summary>
/// A scaled RoPE from config.json's rope_parameters (transformers 5.x) or rope_scaling (4.x), as
/// transformers' modeling_rope_utils computes it: <c>linear</c> (inv_freq / factor), <c>dynamic</c> (NTK: θ grows with
/// the sequence once it passes max_position_embeddings), <c>yarn</c> (a ramp between interpolated and extrapolated
/// frequencies, cos/sin times an attention factor), <c>llama3</c> (low frequencies / factor, a smooth band between) and
/// <c>longrope</c> (Phi-3.5, Phi-4-mini: per-frequency short or long factors, chosen by the sequence length, and a
/// cos/sin scale). The default RoPE has no record (null).
/// </summary>
public sealed record RopeScaling
{
    /// <summary>The types implemented, for error messages.</summary>
    public static readonly IReadOnlyList<string> SupportedTypes = ["default", "linear", "dynamic", "yarn", "llama3", "longrope"];

    public required string Type { get; init; }
    /// <summary>The scale factor; longrope: the config's, else max_position_embeddings / original (see <see cref="FactorDerived"/>).</summary>
    public required double Factor { get; init; }
    /// <summary>longrope: the config gave no factor and <see cref="Factor"/> is the context ratio (not written back).</summary>
    public bool FactorDerived { get; init; }
    /// <summary>longrope: one divisor per rotary frequency, for sequences up to the original context (short) and past it (long).</summary>
    public IReadOnlyList<double>? ShortFactor { get; init; }
    public IReadOnlyList<double>? LongFactor { get; init; }
    /// <summary>llama3: the wavelength bands are original_max_position_embeddings / these factors.</summary>
    public double? LowFreqFactor { get; init; }
    public double? HighFreqFactor { get; init; }
    /// <summary>llama3, yarn and longrope: the context length the model was pre-trained with.</summary>
    public int? OriginalMaxPositionEmbeddings { get; init; }
    /// <summary>yarn: the rotation counts bounding the ramp (defaults 32 and 1).</summary>
    public double? BetaFast { get; init; }
    public double? BetaSlow { get; init; }
    /// <summary>yarn and longrope: the cos/sin scale; absent: derived from the factor (yarn: and mscale / mscale_all_dim).</summary>
    public double? AttentionFactor { get; init; }
    public double? Mscale { get; init; }
    public double? MscaleAllDim { get; init; }
    /// <summary>yarn: round the ramp bounds to whole dimensions (default true).</summary>
    public bool? Truncate { get; init; }

    /// <summary>The options of each type beside rope_type/type and rope_theta (and partial_rotary_factor, read apart).</summary>
    public static IReadOnlyList<string> OptionsOf(string type) => type switch
    {
        "linear" => ["factor"],
        "dynamic" => ["factor", "original_max_position_embeddings"],
        "yarn" => ["factor", "original_max_position_embeddings", "beta_fast", "beta_slow", "attention_factor", "mscale", "mscale_all_dim", "truncate"],
        "llama3" => ["factor", "low_freq_factor", "high_freq_factor", "original_max_position_embeddings"],
        "longrope" => ["short_factor", "long_factor", "original_max_position_embeddings", "attention_factor", "factor"],
        _ => [],
    };

    /// <summary>The options as config.json names them, for writing back.</summary>
    public void WriteTo(JsonObject o)
    {
        o["rope_type"] = Type;
        if (!FactorDerived) o["factor"] = Factor;
        if (ShortFactor is not null) o["short_factor"] = new JsonArray(ShortFactor.Select(f => (JsonNode)f).ToArray());
        if (LongFactor is not null) o["long_factor"] = new JsonArray(LongFactor.Select(f => (JsonNode)f).ToArray());
        if (LowFreqFactor is double lo) o["low_freq_factor"] = lo;
        if (HighFreqFactor is double hi) o["high_freq_factor"] = hi;
        if (OriginalMaxPositionEmbeddings is int orig) o["original_max_position_embeddings"] = orig;
        if (BetaFast is double bf) o["beta_fast"] = bf;
        if (BetaSlow is double bs) o["beta_slow"] = bs;
        if (AttentionFactor is double af) o["attention_factor"] = af;
        if (Mscale is double m) o["mscale"] = m;
        if (MscaleAllDim is double ma) o["mscale_all_dim"] = ma;
        if (Truncate is bool t) o["truncate"] = t;
    }
}

namespace RaftPipeline.Export.Source;

/// <summary>
/// config.json's RoPE: rope_theta and the scaling (transformers 5's rope_parameters, 4.x's rope_scaling), with the
/// keys each scaling type uses. Gemma 3 nests one set per layer type (full_attention, sliding_attention); this
/// record is one set.
/// </summary>
public sealed record RopeParameters
{
    /// <summary>default, linear, dynamic, yarn, llama3, longrope, ...</summary>
    public string Type { get; init; } = "default";
    public required double Theta { get; init; }
    public double Factor { get; init; } = 1;
    public int? OriginalMaxPositionEmbeddings { get; init; }
    public double? LowFreqFactor { get; init; }
    public double? HighFreqFactor { get; init; }
    public double? BetaFast { get; init; }
    public double? BetaSlow { get; init; }
    public double? AttentionFactor { get; init; }
    public double? Mscale { get; init; }
    public double? MscaleAllDim { get; init; }
    public bool? Truncate { get; init; }

    /// <summary>Reads one parameter set; <paramref name="fallbackTheta"/> is the top-level rope_theta (4.x).</summary>
    public static RopeParameters Read(ConfigJson? p, double? fallbackTheta, ConfigJson root)
    {
        var theta = p?.OptionalDouble("rope_theta") ?? fallbackTheta
            ?? throw root.Error("rope_theta", "is missing (top level or rope_parameters)");
        if (p is null) return new RopeParameters { Theta = theta };
        var type = p.OptionalString("rope_type") ?? p.OptionalString("type") ?? "default";
        return new RopeParameters
        {
            Type = type,
            Theta = theta,
            Factor = p.OptionalDouble("factor") ?? 1,
            OriginalMaxPositionEmbeddings = p.OptionalInt("original_max_position_embeddings"),
            LowFreqFactor = p.OptionalDouble("low_freq_factor"),
            HighFreqFactor = p.OptionalDouble("high_freq_factor"),
            BetaFast = p.OptionalDouble("beta_fast"),
            BetaSlow = p.OptionalDouble("beta_slow"),
            AttentionFactor = p.OptionalDouble("attention_factor"),
            Mscale = p.OptionalDouble("mscale"),
            MscaleAllDim = p.OptionalDouble("mscale_all_dim"),
            Truncate = p.OptionalBool("truncate"),
        };
    }
}

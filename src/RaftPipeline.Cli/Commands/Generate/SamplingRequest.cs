using RaftPipeline.Modeling.Chat;

namespace RaftPipeline.Cli.Commands.Generate;

/// <summary>
/// The decoding flags `raft generate` and `raft chat` share, as given (null = not given), and their problems named
/// by flag; the engine's <see cref="SamplingSettings"/> fills what was not given from generation_config.json.
/// </summary>
public sealed record SamplingRequest(
    int? MaxNewTokens = null,
    bool Greedy = false,
    double? Temperature = null,
    int? TopK = null,
    double? TopP = null,
    long? Seed = null,
    double? RepetitionPenalty = null)
{
    public const int DefaultMaxNewTokens = SamplingSettings.DefaultMaxNewTokens;

    /// <summary>The first problem with the flags themselves, naming the option; null when they are usable.</summary>
    public string? Problem()
    {
        if (Greedy && (Temperature is not null || TopK is not null || TopP is not null))
            return "--greedy cannot be combined with --temperature, --top-k or --top-p (they configure sampling)";
        if (Greedy && Seed is not null)
            return "--seed applies to sampling only; drop --greedy or --seed";
        if (MaxNewTokens is < 1) return $"--max-new-tokens must be at least 1, got {MaxNewTokens}";
        if (Temperature is { } t && !(t > 0)) return $"--temperature must be > 0, got {t} (use --greedy for argmax decoding)";
        if (TopK is < 0) return $"--top-k must be ≥ 0 (0 = off), got {TopK}";
        if (TopP is { } p && !(p > 0 && p <= 1)) return $"--top-p must be in (0, 1], got {p}";
        if (RepetitionPenalty is { } r && !(r > 0)) return $"--repetition-penalty must be > 0, got {r}";
        return null;
    }

    /// <summary>These flags as the engine's knobs (what was not given comes from generation_config.json).</summary>
    public SamplingSettings Settings() => new()
    {
        MaxNewTokens = MaxNewTokens,
        Greedy = Greedy,
        Temperature = Temperature,
        TopK = TopK,
        TopP = TopP,
        Seed = Seed,
        RepetitionPenalty = RepetitionPenalty,
    };
}

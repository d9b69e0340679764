using RaftPipeline.Modeling.Generation;

namespace RaftPipeline.Cli.Commands.Generate;

/// <summary>
/// The decoding flags `raft generate` and `raft chat` share, as given (null = not given). What was not given comes
/// from the model's generation_config.json, as transformers' generate() takes it, and then from transformers'
/// own defaults (top_k 50 when sampling).
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
    /// <summary>transformers' GenerationConfig default for top_k, used when sampling and neither side sets it.</summary>
    public const int TransformersTopK = 50;
    public const int DefaultMaxNewTokens = 256;

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

    /// <summary>The options generate() runs with: these flags over generation_config.json over transformers' defaults.</summary>
    public GenerationOptions Resolve(GenerationConfigFile defaults, IReadOnlyList<int> eosTokenIds, int padTokenId)
    {
        // Any sampling knob asks for sampling; otherwise the model's generation_config decides (greedy when silent).
        bool sample = !Greedy && (Temperature is not null || TopK is not null || TopP is not null || Seed is not null || defaults.DoSample == true);
        return new GenerationOptions
        {
            MaxNewTokens = MaxNewTokens ?? defaults.MaxNewTokens ?? DefaultMaxNewTokens,
            DoSample = sample,
            Temperature = sample ? Temperature ?? defaults.Temperature ?? 1.0 : 1.0,
            TopK = sample ? TopK ?? defaults.TopK ?? TransformersTopK : 0,
            TopP = sample ? TopP ?? defaults.TopP ?? 1.0 : 1.0,
            RepetitionPenalty = RepetitionPenalty ?? defaults.RepetitionPenalty ?? 1.0,
            Seed = Seed,
            EosTokenIds = eosTokenIds,
            PadTokenId = padTokenId,
        };
    }
}

using RaftPipeline.Modeling.Generation;

namespace RaftPipeline.Modeling.Chat;

/// <summary>
/// Decoding knobs as a caller gave them (null = not given): a CLI's flags, a server request's fields, an IChatClient's
/// ChatOptions. What was not given comes from the model's generation_config.json, as transformers' generate() takes
/// it, then from transformers' own defaults (top_k 50 when sampling). <see cref="Greedy"/> forces argmax decoding.
/// </summary>
public sealed record SamplingSettings
{
    /// <summary>transformers' GenerationConfig default for top_k, used when sampling and neither side sets it.</summary>
    public const int TransformersTopK = 50;
    public const int DefaultMaxNewTokens = 256;

    public int? MaxNewTokens { get; init; }
    public bool Greedy { get; init; }
    public double? Temperature { get; init; }
    public int? TopK { get; init; }
    public double? TopP { get; init; }
    public long? Seed { get; init; }
    public double? RepetitionPenalty { get; init; }
    public IReadOnlyList<string> StopStrings { get; init; } = [];

    /// <summary>The options generate() runs with: these knobs over generation_config.json over transformers' defaults.</summary>
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
            StopStrings = StopStrings,
        };
    }
}

using RaftPipeline.Modeling.Chat;

namespace RaftPipeline.Serving.Protocol;

/// <summary>
/// The decoding fields /v1/chat/completions and /v1/completions share, checked: max_tokens (or
/// max_completion_tokens), temperature (0 = greedy), top_p, top_k (vLLM's extension; -1 or 0 = off), seed, stop,
/// repetition_penalty (vLLM's), n (1 only). Fields the engine cannot honour (logprobs, penalties other than
/// repetition_penalty, tools) are refused rather than ignored. What is not given comes from the model's
/// generation_config.json, as <c>raft generate</c> takes it.
/// </summary>
public sealed record SamplingFields(SamplingSettings Settings, bool MaxTokensGiven)
{
    public static SamplingFields Read(JsonFields fields)
    {
        var n = fields.Integer("n");
        if (n is not null and not 1) throw OpenAiException.BadRequest($"'n' is {n}; this server returns one choice per request (n = 1)", "n", "invalid_value");
        var maxTokens = fields.Integer("max_completion_tokens", 1, int.MaxValue) ?? fields.Integer("max_tokens", 1, int.MaxValue);
        var temperature = fields.Number("temperature", 0, 2);
        var topP = fields.Number("top_p", 0, 1, minExclusive: true);
        var topK = fields.Integer("top_k", -1, int.MaxValue);
        var seed = fields.Integer("seed");
        var repetition = fields.Number("repetition_penalty", 0, double.PositiveInfinity, minExclusive: true);
        var stops = fields.StopStrings();
        foreach (var penalty in new[] { "presence_penalty", "frequency_penalty" })
        {
            if (fields.Number(penalty, -2, 2) is { } p && p != 0)
                throw OpenAiException.BadRequest($"'{penalty}' is not supported by this server; use 'repetition_penalty' (> 0, 1 = off)", penalty, "unsupported_parameter");
        }
        if (fields.Bool("logprobs") == true || fields.Get("top_logprobs") is not null)
            throw OpenAiException.BadRequest("'logprobs' is not supported by this server", "logprobs", "unsupported_parameter");
        if (fields.Get("logit_bias") is { ValueKind: System.Text.Json.JsonValueKind.Object } bias && bias.EnumerateObject().Any())
            throw OpenAiException.BadRequest("'logit_bias' is not supported by this server", "logit_bias", "unsupported_parameter");

        bool greedy = temperature == 0;
        return new SamplingFields(new SamplingSettings
        {
            MaxNewTokens = (int?)maxTokens,
            Greedy = greedy,
            Temperature = greedy ? null : temperature,
            TopK = topK is null ? null : (int)Math.Max(topK.Value, 0),
            TopP = topP,
            Seed = seed,
            RepetitionPenalty = repetition,
            StopStrings = stops,
        }, maxTokens is not null);
    }
}

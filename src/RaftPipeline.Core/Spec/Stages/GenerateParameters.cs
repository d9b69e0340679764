using System.ComponentModel;
using System.ComponentModel.DataAnnotations;

namespace RaftPipeline.Core.Spec.Stages;

/// <summary>Parameters of a <c>generate</c> stage: probe prompts answered by the base and the tuned model, side by side.</summary>
[Description("Answers probe prompts with the base model and with the tuned model (when an adapter is given), side by side.")]
public sealed record GenerateParameters : StageParameters
{
    [Description("The probes, in order.")]
    [Required]
    [MinLength(1)]
    public IReadOnlyList<ProbePrompt> Prompts { get; init; } = [];

    [Description("System message for probes that set none.")]
    public string? SystemPrompt { get; init; }

    [Description("User message template for probes given as context + question; {context} and {question} are replaced.")]
    public string UserTemplate { get; init; } = "Context: {context}\n---\nQuestion: {question}";

    [Description("Also answer every probe with the base model (without the adapter).")]
    public bool CompareBase { get; init; } = true;

    [Description("Rows decoded together: sorted by prompt length, this many at a time, finished rows leaving their batch. Absent: 8. On the CPU in fp32 every row's tokens are the same in any batch; on a GPU in bf16 a batch can round differently, so it is part of the stage's key.")]
    [Range(1, 4096)]
    public int? BatchSize { get; init; }

    [Description("Sampling settings.")]
    public SamplingOptions Sampling { get; init; } = new();
}

/// <summary>One probe: either a context + question rendered through the user template, or a raw user text.</summary>
public sealed record ProbePrompt : ICheckedParameters
{
    [Description("Short name of the probe, used in reports.")]
    [Required]
    [RegularExpression("^[A-Za-z0-9_.-]+$")]
    public string Name { get; init; } = "";

    [Description("System message of this probe; overrides the stage's system_prompt. An empty string means none.")]
    public string? System { get; init; }

    [Description("Context passage (with question).")]
    public string? Context { get; init; }

    [Description("Question (with an optional context).")]
    public string? Question { get; init; }

    [Description("Raw user message, used as is (instead of context + question).")]
    public string? Text { get; init; }

    public IEnumerable<ParameterProblem> Check()
    {
        if (Text is null && Question is null)
            yield return new("", "expected either 'text' or 'question'");
        else if (Text is not null && (Question is not null || Context is not null))
            yield return new("text", "expected either 'text' or 'question' (with 'context'), not both");
    }
}

/// <summary>Token sampling, as transformers' generate() takes it.</summary>
public sealed record SamplingOptions
{
    [Description("Largest number of generated tokens per answer.")]
    [Range(1, 1_048_576)]
    public int MaxNewTokens { get; init; } = 1024;

    [Description("Always pick the most likely token (temperature, top_p and top_k are then ignored).")]
    public bool Greedy { get; init; }

    [Description("Softmax temperature.")]
    [Range(0.0, 100.0, MinimumIsExclusive = true)]
    public double Temperature { get; init; } = 1.0;

    [Description("Nucleus sampling: keep the smallest set of tokens whose probability sums to top_p.")]
    [Range(0.0, 1.0, MinimumIsExclusive = true)]
    public double TopP { get; init; } = 0.95;

    [Description("Keep the k most likely tokens; 0 disables.")]
    [Range(0, int.MaxValue)]
    public int TopK { get; init; } = 64;

    [Description("Penalty on tokens already present (CTRL's rule, as transformers applies it); 1 disables.")]
    [Range(0.0, 10.0, MinimumIsExclusive = true)]
    public double RepetitionPenalty { get; init; } = 1.1;

    [Description("Sampling seed; when absent, derived from the pipeline seed.")]
    public long? Seed { get; init; }
}

using System.ComponentModel;
using System.ComponentModel.DataAnnotations;

namespace RaftPipeline.Core.Spec.Stages;

/// <summary>Parameters of an <c>eval</c> stage: style and loss metrics on the held-out rows, base vs tuned.</summary>
[Description("Evaluates on held-out rows: share of answers with the opening, quoting the context with the marker, refusing unanswerable questions, and held-out loss; base vs tuned.")]
public sealed record EvalParameters : StageParameters
{
    [Description("System message of every prompt, as the format stage rendered the training chats; absent or empty: no system message.")]
    public string? SystemPrompt { get; init; }

    [Description("User message template, as the format stage's; {context} and {question} are replaced by the row's fields.")]
    public string UserTemplate { get; init; } = "Context: {context}\n---\nQuestion: {question}";

    [Description("Evaluate at most this many rows. Absent: all.")]
    [Range(1, int.MaxValue)]
    public int? MaxRows { get; init; }

    [Description("Answer expected for unanswerable questions.")]
    public string Refusal { get; init; } = "내가 그딴 걸 어떻게 알아?";

    [Description("Opening expected at the start of answers to answerable questions.")]
    public string Opening { get; init; } = "그것도 몰라?";

    [Description("Word that introduces a verbatim quote of the context.")]
    public string Marker { get; init; } = "여기";

    [Description("Also evaluate the base model (without the adapter).")]
    public bool CompareBase { get; init; } = true;

    [Description("Rows decoded together: sorted by prompt length, this many at a time, finished rows leaving their batch. Absent: 8. On the CPU in fp32 every row's tokens are the same in any batch; on a GPU in bf16 a batch can round differently, so it is part of the stage's key.")]
    [Range(1, 4096)]
    public int? BatchSize { get; init; }

    [Description("Sampling settings of the generated answers (greedy by default, so metrics are reproducible).")]
    public SamplingOptions Sampling { get; init; } = new() { Greedy = true, MaxNewTokens = 256 };
}

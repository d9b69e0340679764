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

    [Description("Sampling settings of the generated answers (greedy by default, so metrics are reproducible).")]
    public SamplingOptions Sampling { get; init; } = new() { Greedy = true, MaxNewTokens = 256 };
}

using System.ComponentModel;
using System.ComponentModel.DataAnnotations;

namespace RaftPipeline.Core.Spec.Stages;

/// <summary>Parameters of a <c>format</c> stage: rows → chat-formatted training texts.</summary>
[Description("Renders each row as a chat (system, user, assistant) with the model's chat template, optionally adding RAFT distractors and negatives.")]
public sealed record FormatParameters : StageParameters
{
    [Description("System message of every chat; absent or empty: no system message.")]
    public string? SystemPrompt { get; init; }

    [Description("User message template; {context} and {question} are replaced by the row's fields.")]
    public string UserTemplate { get; init; } = "Context: {context}\n---\nQuestion: {question}";

    [Description("Remove an empty '<think>\\n\\n</think>\\n\\n' block that some chat templates insert before the answer.")]
    public bool StripEmptyThink { get; init; } = true;

    [Description("RAFT options (Zhang et al., 2024): distractor contexts and synthesized negatives.")]
    public RaftOptions Raft { get; init; } = new();
}

/// <summary>
/// Retrieval-augmented fine-tuning: mix distractor contexts into each row and add questions whose contexts do
/// not hold the answer, answered with a refusal, so the model learns when not to answer.
/// </summary>
public sealed record RaftOptions
{
    [Description("Number of distractor contexts (other rows' contexts) added to each row; 0 disables RAFT mixing.")]
    [Range(0, 32)]
    public int Distractors { get; init; }

    [Description("Probability that a row keeps its oracle (answer-bearing) context among the distractors.")]
    [Range(0.0, 1.0)]
    public double OracleProbability { get; init; } = 1.0;

    [Description("Synthesized negatives (a question with only unrelated contexts, answered with the refusal) as a fraction of the answerable rows.")]
    [Range(0.0, 1.0)]
    public double Negatives { get; init; }

    [Description("Answer of synthesized negatives and of rows whose oracle context was dropped.")]
    public string Refusal { get; init; } = "내가 그딴 걸 어떻게 알아?";
}

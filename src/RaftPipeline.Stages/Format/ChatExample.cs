namespace RaftPipeline.Stages.Format;

/// <summary>
/// One conversation before the chat template is applied: the system prompt (null for none), the user text (the
/// user template filled with the contexts and the question) and the assistant text to learn.
/// </summary>
/// <param name="Source">The dataset row's file and row, so any example can be traced back to its data.</param>
public sealed record ChatExample(
    string? System,
    string User,
    string Assistant,
    ExampleKind Kind,
    int ContextCount,
    string Source,
    int SourceRow);

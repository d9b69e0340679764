namespace RaftPipeline.Stages.Format;

/// <summary>The data side of the format stage: prompt texts, the answer to refuse with, and RAFT.</summary>
public sealed record FormatOptions
{
    /// <summary>The system prompt; null or empty for none.</summary>
    public string? SystemPrompt { get; init; }

    public UserTemplate UserTemplate { get; init; } = new();

    public string RefusalAnswer { get; init; } = Load.LoadOptions.DefaultRefusal;

    public RaftOptions Raft { get; init; } = new();
}

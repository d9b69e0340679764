namespace RaftPipeline.Text.Templates;

/// <summary>One turn built in code. Messages loaded from JSON keep every field they carry (tool_calls, ...).</summary>
public sealed record ChatMessage(string Role, string? Content, string? ReasoningContent = null);

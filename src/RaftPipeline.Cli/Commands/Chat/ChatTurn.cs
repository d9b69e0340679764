namespace RaftPipeline.Cli.Commands.Chat;

/// <summary>One answered turn: the rendered prompt (whole history, assistant turn opened), its ids, the new ids and
/// the answer text as shown and kept in the history.</summary>
public sealed record ChatTurn(string PromptText, IReadOnlyList<int> PromptIds, IReadOnlyList<int> NewIds, string Answer);

using RaftPipeline.Modeling.Generation;

namespace RaftPipeline.Modeling.Chat;

/// <summary>
/// A finished continuation: its text (special tokens skipped, cut before the first stop string), the new ids (ending
/// with the eos id when that stopped it), why it stopped, and the token counts an API reports as usage.
/// </summary>
public sealed record ChatAnswer(string Text, IReadOnlyList<int> Ids, FinishReason Finish, int PromptTokens)
{
    public int CompletionTokens => Ids.Count;
}

/// <summary>
/// One piece of a streamed continuation: new text while it runs; the last update carries the whole
/// <see cref="Answer"/> (finish reason, ids, usage) and no text of its own.
/// </summary>
public sealed record ChatStreamUpdate(string Text, ChatAnswer? Answer = null);

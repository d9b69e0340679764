namespace RaftPipeline.Training.Data;

/// <summary>
/// Finds the response template inside a row's token ids. The template is matched as an id sequence, never by
/// re-tokenizing text: a string like "assistant" can tokenize differently inside a text than alone (merges with a
/// neighbouring space or newline). For chat templates the template starts with a special token
/// (<c>&lt;|im_start|&gt;</c>), which the pre-tokenizer always splits off, so the ids that follow it in context are
/// the ids of its remainder tokenized on its own; <see cref="InContext"/> builds the template that way.
/// </summary>
public static class ResponseTemplate
{
    /// <summary>The notebook's default: <c>&lt;|im_start|&gt;assistant</c>.</summary>
    public const string DefaultText = "<|im_start|>assistant";

    /// <summary>The template ids: the special token's id, then the ids of the text that follows it.</summary>
    public static int[] InContext(int specialTokenId, IReadOnlyList<int> remainderIds) =>
        [specialTokenId, .. remainderIds];

    /// <summary>
    /// Start index of the LAST occurrence of <paramref name="template"/> in <paramref name="ids"/>, or -1.
    /// TRL 0.19's <c>DataCollatorForCompletionOnlyLM</c> (single response_template) scans every match and keeps
    /// the last one (its loop has no break), so in a multi-turn row only the final assistant turn is learned; we do
    /// the same so that the two trainers supervise the same tokens.
    /// </summary>
    public static int FindLast(ReadOnlySpan<int> ids, IReadOnlyList<int> template)
    {
        for (int start = ids.Length - template.Count; start >= 0; start--)
        {
            bool match = true;
            for (int k = 0; k < template.Count && match; k++)
                match = ids[start + k] == template[k];
            if (match) return start;
        }
        return -1;
    }
}

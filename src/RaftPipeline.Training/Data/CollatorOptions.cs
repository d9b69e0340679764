namespace RaftPipeline.Training.Data;

/// <summary>
/// How rows become training batches. <see cref="ResponseTemplateIds"/> are the token ids that open an answer
/// (for Qwen3 chat texts: the id of the special token <c>&lt;|im_start|&gt;</c> followed by the ids of
/// <c>assistant</c>, see <see cref="ResponseTemplate"/>); everything up to and including them is context and
/// carries no loss.
/// </summary>
public sealed record CollatorOptions(IReadOnlyList<int> ResponseTemplateIds, int MaxSeqLength, int PadTokenId)
{
    /// <summary>The label value the loss ignores (HF / torch convention).</summary>
    public const int IgnoreIndex = -100;

    public void Validate()
    {
        if (ResponseTemplateIds.Count == 0)
            throw new ArgumentException("response template must contain at least one token id", nameof(ResponseTemplateIds));
        if (MaxSeqLength < 2)
            throw new ArgumentOutOfRangeException(nameof(MaxSeqLength), MaxSeqLength, "max_seq_length must be at least 2");
    }
}

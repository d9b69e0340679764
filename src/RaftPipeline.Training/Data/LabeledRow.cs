namespace RaftPipeline.Training.Data;

/// <summary>
/// One row after truncation and completion-only labelling. <see cref="Labels"/> has the length of
/// <see cref="InputIds"/>; positions that carry no loss hold <see cref="CollatorOptions.IgnoreIndex"/>.
/// A packed sequence (<see cref="RowPacker"/>) is also a row, with <see cref="SegmentIds"/> numbering its packed rows
/// 1, 2, … per token; null for an ordinary row (one segment).
/// </summary>
public sealed record LabeledRow(int[] InputIds, int[] Labels, RowStatus Status, int[]? SegmentIds = null)
{
    /// <summary>Tokens that count in the loss after the causal shift (position 0 is never predicted).</summary>
    public int SupervisedTokens
    {
        get
        {
            int n = 0;
            for (int i = 1; i < Labels.Length; i++) if (Labels[i] != CollatorOptions.IgnoreIndex) n++;
            return n;
        }
    }
}

/// <summary>What labelling found in a row.</summary>
public enum RowStatus
{
    /// <summary>Template found, answer tokens supervised.</summary>
    Ok,
    /// <summary>Answer partly cut by max_seq_length; the kept part is supervised.</summary>
    Truncated,
    /// <summary>max_seq_length cut the whole answer (or the template) away: the row carries no loss.</summary>
    AnswerCutAway,
    /// <summary>The row never contained the response template: it carries no loss (TRL warns and does the same).</summary>
    TemplateMissing,
}
